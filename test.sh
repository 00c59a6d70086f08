#!/usr/bin/env bash
# Sets up a virtual environment with the pinned dependencies and runs lint, the type checker
# and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache
.venv/bin/mypy  # the application code, as [tool.mypy] in pyproject.toml says
.venv/bin/python -m pytest -ra "$@"

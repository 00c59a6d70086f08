#!/usr/bin/env bash
# Sets up a virtual environment with the pinned dependencies and starts the bot.
# Extra arguments go to bot.py, e.g. ./run.sh sync --guild 123456789012345678
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python bot.py "$@"

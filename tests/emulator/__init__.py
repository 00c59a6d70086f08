"""A small, faithful Discord emulator (REST + gateway on 127.0.0.1) for tests and benchmarks.

See README.md in this folder.  Import the modules you need (``tests.emulator.emulator``,
``tests.emulator.harness``, ...): this file imports nothing, so ``python -m
tests.emulator.launch`` (which runs inside every bot process) loads no emulator code.
"""

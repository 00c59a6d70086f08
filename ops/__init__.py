"""Operating Stride: the `bot.py check` and `bot.py invite` commands (see docs/operating.md)."""

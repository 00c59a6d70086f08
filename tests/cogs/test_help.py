"""/help's wording (cogs/help.py): what the moves do, and how much of it anyone needs."""

from __future__ import annotations

from cogs.help import ABOUT, HOW_MUCH


def test_help_says_what_the_moves_do_without_promising_health() -> None:
    assert "healthy" not in ABOUT.lower() and "injur" not in ABOUT.lower()
    assert "wake up and practise the hip and glute muscles" in ABOUT
    assert "under-use" in ABOUT


def test_help_says_nobody_does_all_of_it_every_day() -> None:
    assert HOW_MUCH.startswith("Nobody does all of this every day.")
    assert "a couple of minutes of two or three moves before most runs" in HOW_MUCH
    assert "longer routines" in HOW_MUCH and "when you have the time" in HOW_MUCH
    assert len(HOW_MUCH) <= 1024  # one embed field

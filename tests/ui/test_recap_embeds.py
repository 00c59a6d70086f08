"""The weekly recap and the nudge (ui/recap_embeds.py): what they say, run names shown safely,
members only as mentions (sent with mentions disabled), and Discord's limits however big the
week (50 milestones, many runs with hostile names, the five longest streaks)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from stride.catalog import Catalog
from stride.nudges import NudgeText
from stride.recaps import CHART_DAYS, Recap
from stride.records import ClubHighlight, Highlight, RunEvent
from ui.recap_embeds import CHART_FILE, LISTED, nudge_embed, recap_embed

from .checks import assert_fits, text_of
from .test_run_embeds import HOSTILE

END = date(2026, 11, 29)
START = END - timedelta(days=6)
MEMBER_MENTION = re.compile(r"<@\d+>")


def recap(**changes: object) -> Recap:
    values: dict[str, object] = dict(
        guild_id=1, zone="Europe/Berlin", start=START, end=END, checkins=412, previous=368,
        members=57, present=120, alive=77, top=[(10 + n, 40 - n) for n in range(5)],
        milestones=[ClubHighlight(30, END, Highlight("streak", 7))],
        comebacks=[ClubHighlight(31, START, Highlight("back", 9))], milestone_count=1,
        comeback_count=1, runs=[],
        daily=[(END - timedelta(days=CHART_DAYS - 1 - n), n) for n in range(CHART_DAYS)],
    )
    values.update(changes)
    return Recap(**values)  # type: ignore[arg-type]


def fields(data: dict[str, object]) -> dict[str, str]:
    return {f["name"]: f["value"] for f in data.get("fields", [])}  # type: ignore[union-attr]


def test_a_recap_says_the_week() -> None:
    data = assert_fits(recap_embed(recap()))
    assert data["title"] == "The club's week · 23–29 Nov 2026"
    assert data["description"] == ("**412** check-ins by **57** members (▲ 12% on the week "
                                   "before).\n**64%** of members have a streak alive "
                                   "(77 of 120).")
    shown = fields(data)
    assert shown["Longest streaks now"].splitlines()[:2] == ["🥇 <@10>: 40 days",
                                                             "🥈 <@11>: 39 days"]
    assert shown["Longest streaks now"].splitlines()[4] == "**5.** <@14>: 36 days"
    assert shown["Milestones this week"] == "<@30>: 7-day streak (Sun)"
    assert shown["Back after a break"] == "<@31> (after 9 days)"
    assert data["image"]["url"] == f"attachment://{CHART_FILE}"
    assert "Europe/Berlin" in data["footer"]["text"]


def test_a_quiet_week_and_a_month_boundary() -> None:
    quiet = assert_fits(recap_embed(recap(
        start=date(2026, 11, 26), end=date(2026, 12, 2), checkins=0, members=0, previous=0,
        present=0, alive=0, top=[], milestones=[], comebacks=[], milestone_count=0,
        comeback_count=0)))
    assert quiet["title"] == "The club's week · 26 Nov – 2 Dec 2026"
    assert quiet["description"].startswith("No check-ins this week.")
    assert not fields(quiet)
    down = assert_fits(recap_embed(recap(checkins=1, members=1, previous=4)))
    assert down["description"].startswith("**1** check-in by **1** member (▼ 75% on")


@pytest.mark.parametrize("name", HOSTILE)
def test_runs_are_shown_as_typed_and_members_only_as_mentions(name: str) -> None:
    runs = [RunEvent(1, 100 + n, name, 1_800_000_000 + n * 3600) for n in range(30)]
    many = [ClubHighlight(1000 + n, END, Highlight("total", 50)) for n in range(50)]
    data = assert_fits(recap_embed(recap(runs=runs, milestones=many[:LISTED],
                                         comebacks=many[:LISTED], milestone_count=50,
                                         comeback_count=50)))
    text = text_of(data)
    # Every live mention in the recap is a member's (shown, never pinged: the post disables
    # mentions); nothing an organiser typed becomes a mention, a role ping or markdown.
    for mention in re.findall(r"@(?:everyone|here)|<(?:@[!&]?|#)\d+>|</[^>\s]+:\d+>", text):
        assert MEMBER_MENTION.fullmatch(mention), mention
    runs_field = fields(data)["Runs in the next seven days"]
    assert runs_field.count("\n") == LISTED  # 10 runs and "…and 20 more runs", one field
    assert runs_field.endswith("…and 20 more runs")
    assert fields(data)["Milestones this week"].endswith("…and 40 more milestones")
    assert fields(data)["Back after a break"].endswith("…and 40 more members")


def test_the_nudge_says_what_is_at_stake(catalog: Catalog) -> None:
    quick = min(catalog.routines, key=lambda r: r.minutes)
    data = assert_fits(nudge_embed(NudgeText(12, 1_800_000_000), quick, catalog))
    assert data["title"] == "Your 12-day streak ends at midnight"
    assert "<t:1800000000:t>" in data["description"] and quick.name in data["description"]
    assert data["footer"]["text"].startswith("⚠️ ")
    assert "/remindme nudge enabled:False" in data["footer"]["text"]
    assert any(f["name"] == "Today's moves" for f in data["fields"])
    none = assert_fits(nudge_embed(NudgeText(2, 1_800_000_000), None, catalog))
    assert "press **Done**" in none["description"]

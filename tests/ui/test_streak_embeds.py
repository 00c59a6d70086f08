"""Check-in, streak and board embeds (ui/streak_embeds.py): the figures, the empty states, the
caller marked on a board page, member-chosen names shown safely, and Discord's limits."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from stride.checkins import BoardPage, CheckinResult, MemberView, UndoResult
from stride.records import BoardRow, BoardSlice, Highlight
from stride.streaks import Figures
from ui.streak_embeds import board_embed, checkin_embed, streak_embed, undo_embed

from .checks import assert_fits, assert_safe

MONDAY = date(2026, 11, 23)
HOSTILE_NAME = "\u202e@everyone <@&1> **big** <#2>\u200b\n# x" + "y" * 300


def user(name: str = "Alice", user_id: int = 42) -> SimpleNamespace:
    """What the embeds read of a discord.py User/Member."""
    return SimpleNamespace(display_name=name, mention=f"<@{user_id}>", id=user_id)


def figures(current: int = 2, best: int = 5, total: int = 9, week: int = 2, month: int = 4
            ) -> Figures:
    return Figures(current, best, total, week, month)


def field_values(data: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in data["fields"]}


FIGURE_FIELDS = {"Current streak": "2 🔥", "Longest": "5", "Total": "9", "This week": "2",
                 "This month": "4"}


# --- /checkin and undo ---------------------------------------------------------------------

def test_a_recorded_checkin_names_the_member_the_day_and_the_figures() -> None:
    data = assert_fits(checkin_embed(user(), CheckinResult(True, MONDAY, figures()), "Quick"))
    assert data["title"] == "Checked in (Quick) ✅"
    assert data["description"].startswith("<@42> is switched on for Monday. ")
    assert field_values(data) == FIGURE_FIELDS
    plain = assert_fits(checkin_embed(user(), CheckinResult(True, MONDAY, figures()), None))
    assert plain["title"] == "Checked in ✅"


def test_a_second_checkin_the_same_day_says_so_and_shows_the_figures() -> None:
    data = assert_fits(checkin_embed(user(), CheckinResult(False, MONDAY, figures()), "Quick"))
    assert data["title"] == "Already checked in today"
    assert "Monday 23 November" in data["description"]
    assert "<@42>" not in data["description"] and "Quick" not in data["title"]
    assert field_values(data) == FIGURE_FIELDS


@pytest.mark.parametrize(
    ("current", "best", "total", "words"),
    [
        (1, 1, 1, "First check-in!"),
        (3, 3, 10, "your best streak yet"),
        (8, 20, 30, "A week and more"),
        (1, 6, 12, "A fresh start"),
        (2, 4, 6, "Consistency beats intensity"),
    ],
)
def test_the_encouragement_fits_where_the_member_is(current: int, best: int, total: int,
                                                     words: str) -> None:
    result = CheckinResult(True, MONDAY, figures(current, best, total))
    assert words in checkin_embed(user(), result, None).description  # type: ignore[operator]


def test_undo_shows_the_figures_after_it() -> None:
    data = assert_fits(undo_embed(UndoResult(figures(current=1, total=8))))
    assert data["title"] == "Check-in taken back"
    assert field_values(data)["Current streak"] == "1 🔥"
    assert field_values(data)["Total"] == "8"
    assert "milestone" not in data["description"]


def test_a_check_in_says_its_milestones_and_a_comeback() -> None:
    reached = (Highlight("streak", 7), Highlight("total", 50))
    data = assert_fits(checkin_embed(user(), CheckinResult(True, MONDAY, figures(7, 7, 50),
                                                           reached), None))
    assert field_values(data)["Milestones"] == "🏅 **7-day streak**!\n🏅 **50th check-in**!"
    back = assert_fits(checkin_embed(user(), CheckinResult(
        True, MONDAY, figures(1, 5, 11), (Highlight("back", 9),)), None))
    assert "Welcome back after 9 days" in field_values(back)["Milestone"]
    plain = assert_fits(checkin_embed(user(), CheckinResult(True, MONDAY, figures()), None))
    assert not {"Milestone", "Milestones"} & set(field_values(plain))


def test_undo_says_which_milestones_it_takes_back() -> None:
    data = assert_fits(undo_embed(UndoResult(figures(6, 6, 49), (
        Highlight("streak", 7), Highlight("total", 50)))))
    assert "The 7-day streak and 50th check-in milestones go with it" in data["description"]
    one = assert_fits(undo_embed(UndoResult(figures(6, 6, 20), (Highlight("streak", 7),))))
    assert "The 7-day streak milestone goes with it" in one["description"]


# --- /streak -------------------------------------------------------------------------------

def view(total: int = 9, zone: str = "Europe/Berlin", rest_days: int = 2) -> MemberView:
    return MemberView(figures(total=total), zone, MONDAY, [MONDAY], rest_days)


def test_own_streak_speaks_to_the_member() -> None:
    data = assert_fits(streak_embed(user(), view(), self_view=True))
    assert data["title"] == "Alice's streak"
    assert data["description"] == ("You can miss up to 2 day(s) in a row and keep the streak. "
                                   "Days count in Europe/Berlin.")
    assert field_values(data) == FIGURE_FIELDS
    assert data["footer"]["text"].startswith("The last 12 weeks")


def test_someone_elses_streak_names_them() -> None:
    data = assert_fits(streak_embed(user("Bob"), view(rest_days=0), self_view=False))
    assert data["description"].startswith("Bob can miss up to 0 day(s) in a row")


def test_no_checkins_yet_is_an_empty_state_with_a_nudge() -> None:
    mine = assert_fits(streak_embed(user(), view(total=0), self_view=True))
    assert mine["title"] == "No streak yet" and "fields" not in mine
    assert "`/routine name:quick`" in mine["description"]
    theirs = assert_fits(streak_embed(user("Bob"), view(total=0), self_view=False))
    assert theirs["description"] == "Bob hasn't checked in yet."


@pytest.mark.parametrize("total", [0, 9])
@pytest.mark.parametrize("self_view", [True, False])
def test_a_hostile_display_name_is_shown_safely(total: int, self_view: bool) -> None:
    data = assert_fits(streak_embed(user(HOSTILE_NAME), view(total=total), self_view=self_view))
    text = data["title"] + "\n" + data["description"]
    assert_safe(text)
    assert "**big**" not in text and "\n#" not in text  # no markdown from the name
    assert "y" * 80 not in text  # the name is cut (80 characters)


# --- /leaderboard --------------------------------------------------------------------------

def page(rows: list[tuple[int, int, int]], *, board: str = "checkins", period: str = "all",
         number: int = 0, more: bool = False, mine: tuple[int, int] | None = None) -> BoardPage:
    """`rows`: (rank, user id, value); `mine`: the caller's (value, rank)."""
    value, rank = mine if mine else (None, None)
    return BoardPage(board, period, number, BoardSlice(
        [BoardRow(*r) for r in rows], more, value, rank))


def lines(data: dict) -> list[str]:
    return data["description"].splitlines()


def test_a_board_page_marks_the_caller_and_gives_medals_to_the_top_three() -> None:
    rows = [(1, 11, 30), (1, 12, 30), (3, 42, 20), (4, 13, 19), (5, 14, 2)]
    data = assert_fits(board_embed(page(rows, mine=(20, 3), more=True), "Test Running Club", 42))
    assert data["title"] == "Check-ins · all time"
    assert lines(data) == [
        "🥇 <@11>: 30 check-ins",
        "🥇 <@12>: 30 check-ins",  # a tie shares the rank
        "🥉 <@42>: 20 check-ins ← you",
        "**4.** <@13>: 19 check-ins",
        "**5.** <@14>: 2 check-ins",
    ]
    assert [line.endswith("← you") for line in lines(data)].count(True) == 1
    assert field_values(data) == {"You": "#3 with 20 check-ins"}
    assert data["author"]["name"] == "Test Running Club"
    assert data["footer"]["text"] == "Page 1"


def test_the_caller_below_the_page_is_not_marked_but_told_their_rank() -> None:
    data = assert_fits(board_embed(page([(1, 11, 9), (2, 12, 8)], board="streak",
                                        period="week", mine=(1, 57)), None, 42))
    assert data["title"] == "Current streaks · this week"
    assert "← you" not in data["description"]
    assert lines(data)[1] == "🥈 <@12>: 8 days"
    assert field_values(data) == {"You": "#57 with 1 days"}
    assert "author" not in data


def test_empty_boards_say_what_to_do() -> None:
    first = assert_fits(board_embed(page([], board="best", period="month"), "Club", 42))
    assert first["title"] == "Longest streaks · this month"
    assert lines(first) == [
        "Nobody on this board yet. Be the first: `/checkin` after your activation!"]
    assert field_values(first) == {"You": "Not on this board yet: check in to join it."}
    assert first["footer"]["text"] == "Page 1 (last)"
    later = assert_fits(board_embed(page([], number=4, mine=(3, 12)), "Club", 42))
    assert lines(later) == ["No more members on this board."]
    assert later["footer"]["text"] == "Page 5 (last)"


def test_a_full_page_of_big_numbers_and_a_long_server_name_fits() -> None:
    rows = [(r, 10**19 + r, 10**9 - r) for r in range(99_991, 100_001)]
    data = assert_fits(board_embed(page(rows, number=9_999, more=True, mine=(10**9, 1)),
                                   "G" * 300, 10**19 + 100_000))
    assert len(lines(data)) == 10 and lines(data)[-1].endswith("← you")
    assert lines(data)[0].startswith("**99991.** <@10000000000000099991>: ")
    assert data["author"]["name"] == "G" * 256
    assert data["footer"]["text"] == "Page 10000"

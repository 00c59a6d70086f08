"""Stride's buttons: custom_ids stay byte-for-byte what earlier versions posted (buttons on
messages already in Discord keep working), and who may press one is checked after admission."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from cogs.club import ConfirmForget
from cogs.library import BrowsePage, ShowExercise
from cogs.routines import StartRoutine, WalkStep
from cogs.streaks import BoardPageButton
from stride.inflight import InFlight
from ui.checkin import CheckinButton, UndoCheckin, firing_tag
from ui.components import PersistentButton
from ui.custom_id import SNOWFLAKE, CustomId
from ui.errors import RESTARTING

# The templates as earlier versions spelled them, by hand.
OLD_TEMPLATES: dict[type[PersistentButton], str] = {
    UndoCheckin: r"stride:undo:(?P<user_id>\d{1,20})",
    ConfirmForget: r"stride:forget:(?P<user_id>\d{1,20})",
    ShowExercise: r"stride:ex:(?P<exercise_id>[a-z0-9-]{1,40})",
    BrowsePage: r"stride:browse:(?P<category>[a-z]{1,20}):(?P<page>\d{1,3}):(?P<direction>[pn])",
    BoardPageButton: r"stride:board:(?P<board>[a-z]{1,10}):(?P<period>[a-z]{1,5}):"
    r"(?P<page>\d{1,5}):(?P<direction>[pn])",
    StartRoutine: r"stride:start:(?P<routine_id>[a-z0-9-]{1,40})",
    WalkStep: r"stride:walk:(?P<routine_id>[a-z0-9-]{1,40}):(?P<index>\d{1,2}):(?P<move>[bns])",
    CheckinButton: r"stride:checkin(?::(?P<what>[a-z0-9-]{1,40}))?(?::g(?P<guild_id>\d{1,20}))?"
    r"(?::@(?P<firing>[0-9A-Za-z]{1,11}\.[0-9A-Za-z]{1,11}))?",
}

BIG = 2**64 - 1  # the largest snowflake
FIRING = firing_tag(2**63 - 1, 1_767_225_600)


def old_checkin_id(what: str | None, guild_id: int | None, firing: str | None) -> str:
    """How earlier versions built a Check in button's custom_id."""
    custom_id = "stride:checkin" + (f":{what}" if what else "")
    custom_id += f":g{guild_id}" if guild_id else ""
    custom_id += f":@{firing}" if firing else ""
    return custom_id


# Each button built from sample state, and the custom_id earlier versions gave it.
SAMPLES: list[tuple[PersistentButton, str]] = [
    (UndoCheckin(123456789012345678), "stride:undo:123456789012345678"),
    (UndoCheckin(BIG), f"stride:undo:{BIG}"),
    (ConfirmForget(42), "stride:forget:42"),
    (ShowExercise("clamshell", "Show Clamshell"), "stride:ex:clamshell"),
    (ShowExercise("r" * 40), "stride:ex:" + "r" * 40),
    (BrowsePage("strength", 3, "n", disabled=False), "stride:browse:strength:3:n"),
    (BrowsePage("form", 0, "p", disabled=True), "stride:browse:form:0:p"),
    (BoardPageButton("streak", "week", 12, "p", disabled=True), "stride:board:streak:week:12:p"),
    (BoardPageButton("checkins", "all", 99999, "n", disabled=False),
     "stride:board:checkins:all:99999:n"),
    (StartRoutine("quick", label="Show me how"), "stride:start:quick"),
    (WalkStep("full-pre-run", 7, "b", label="Back"), "stride:walk:full-pre-run:7:b"),
    (WalkStep("quick", 0, "s", label="Start over"), "stride:walk:quick:0:s"),
    (WalkStep("quick", 12, "n"), "stride:walk:quick:12:n"),
    *(
        (CheckinButton(what, guild_id=guild_id, firing=firing),
         old_checkin_id(what, guild_id, firing))
        for what, guild_id, firing in product(
            (None, "", "quick", "glute-bridge"), (None, 0, 987654321, BIG), (None, "", FIRING)
        )
    ),
]


@pytest.mark.parametrize("button", OLD_TEMPLATES, ids=lambda b: b.__name__)
def test_templates_are_those_of_earlier_versions(button: type[PersistentButton]) -> None:
    assert button.__discord_ui_compiled_template__.pattern == OLD_TEMPLATES[button]
    assert button.custom_ids.regex == OLD_TEMPLATES[button]


@pytest.mark.parametrize(("button", "old"), SAMPLES, ids=[old for _, old in SAMPLES])
def test_custom_ids_are_those_of_earlier_versions(button: PersistentButton, old: str) -> None:
    assert button.custom_id == old
    match = type(button).__discord_ui_compiled_template__.fullmatch(old)
    assert match is not None  # discord.py dispatches it to this button ...
    rebuilt = type(button).from_state(**match.groupdict())  # ... which it rebuilds from it
    assert type(rebuilt) is type(button) and rebuilt.custom_id == old


def test_the_optional_parts_of_a_check_in_parse_back() -> None:
    match = CheckinButton.__discord_ui_compiled_template__.fullmatch(
        CheckinButton("quick", guild_id=5, firing=FIRING).custom_id
    )
    assert match is not None
    assert match.groupdict() == {"what": "quick", "guild_id": "5", "firing": FIRING}
    match = CheckinButton.__discord_ui_compiled_template__.fullmatch(
        CheckinButton(None, firing=FIRING).custom_id
    )
    assert match is not None
    assert match.groupdict() == {"what": None, "guild_id": None, "firing": FIRING}
    # A reminder is found again by its post's Done button ending with its firing's tag.
    assert CheckinButton("quick", firing=FIRING).custom_id.endswith(f":@{FIRING}")


def test_every_registered_button_is_covered() -> None:
    def subclasses(cls: type[PersistentButton]) -> set[type[PersistentButton]]:
        return {c for s in cls.__subclasses__() for c in {s, *subclasses(s)}}

    assert subclasses(PersistentButton) == set(OLD_TEMPLATES)  # a new one needs its samples
    assert {type(button) for button, _ in SAMPLES} == set(OLD_TEMPLATES)


def test_a_custom_id_pattern_is_checked_when_declared() -> None:
    for bad in ("a:[{x}", "a:]{x}", "a:[[{x}]]", "a:{x}:{x}", "a:{x}}", "a:{y}"):
        with pytest.raises(ValueError):
            CustomId(bad, x=SNOWFLAKE)
    with pytest.raises(ValueError, match="each of"):
        CustomId("a:{x}", x=SNOWFLAKE, y=SNOWFLAKE)
    ids = CustomId("a:{x}[:b{y}]", x=SNOWFLAKE, y=SNOWFLAKE)
    assert ids.regex == r"a:(?P<x>\d{1,20})(?::b(?P<y>\d{1,20}))?"
    assert ids.format(x=1, y=None) == "a:1" and ids.format(x=1, y=2) == "a:1:b2"
    with pytest.raises(TypeError):
        ids.format(x=1)  # every field is given, so a typo cannot drop a part silently
    assert CustomId("x.y+").regex == r"x\.y\+"


# --- who may press -------------------------------------------------------------------------

OWNER, STRANGER, GUILD = 42, 43, 1000


class FakeResponse:
    def __init__(self) -> None:
        self.sent: list[tuple[str | None, dict[str, Any]]] = []

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self.sent.append((content, kwargs))


def press(user_id: int, *, guild_id: int | None = GUILD, stopping: bool = False) -> Any:
    """A component interaction, as much of it as the checks read."""
    inflight = InFlight()
    if stopping:
        inflight.stop_accepting()
    return SimpleNamespace(
        client=SimpleNamespace(inflight=inflight), user=SimpleNamespace(id=user_id),
        guild_id=guild_id, response=FakeResponse(), type=discord.InteractionType.component,
    )


@pytest.mark.parametrize(("button", "not_yours"), [
    (UndoCheckin(OWNER),
     "Only the member who checked in can undo it. Use `/checkin` for your own."),
    (ConfirmForget(OWNER), "That button isn't yours."),
], ids=["undo", "forget"])
async def test_only_the_owner_may_press(button: PersistentButton, not_yours: str) -> None:
    mine = press(OWNER)
    assert await button.interaction_check(mine) is True
    assert mine.response.sent == [] and len(mine.client.inflight) == 1  # admitted, tracked
    for theirs in (press(STRANGER), press(OWNER, guild_id=None)):
        assert await button.interaction_check(theirs) is False
        assert theirs.response.sent == [(not_yours, {"ephemeral": True})]
        assert len(theirs.client.inflight) == 1  # the refusal is tracked too


@pytest.mark.parametrize("button", [UndoCheckin(OWNER), ConfirmForget(OWNER), ShowExercise("x")],
                         ids=["undo", "forget", "show"])
@pytest.mark.parametrize("user_id", [OWNER, STRANGER])
async def test_admission_comes_first(button: PersistentButton, user_id: int) -> None:
    """While the bot stops, anyone pressing is asked to try again, before any other check."""
    interaction = press(user_id, stopping=True)
    assert await button.interaction_check(interaction) is False
    [(text, kwargs)] = interaction.response.sent
    assert text is None and kwargs["ephemeral"] is True
    assert kwargs["embed"].description == RESTARTING
    assert interaction.client.inflight.refused == 1 and len(interaction.client.inflight) == 1


async def test_anyone_may_press_other_buttons() -> None:
    interaction = press(STRANGER, guild_id=None)
    assert await ShowExercise("x").interaction_check(interaction) is True
    assert interaction.response.sent == []

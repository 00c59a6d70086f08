"""Reminder embeds (ui/reminder_embeds.py): the posted reminder, and the admin's list with when
each fires next or why it is paused (a reason that can hold a member's name, shown safely)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from stride.catalog import Catalog
from stride.records import Reminder
from ui.reminder_embeds import next_text, reminder_embed, reminder_list_embed, schedule_text

from .checks import assert_fits, assert_safe

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 30 March 2026, 06:30 in Berlin (summer time since the day before: UTC+2).
DUE = int(datetime(2026, 3, 30, 6, 30, tzinfo=BERLIN).timestamp())


def reminder(n: int = 1, **kw: object) -> Reminder:
    fields: dict[str, object] = {
        "id": n, "guild_id": 10, "kind": "channel", "channel_id": 500 + n, "user_id": None,
        "at": "06:30", "days": 0b0010101, "timezone": "Europe/Berlin", "role_id": None,
        "routine": "quick", "next_due": DUE, "paused": None, "fired": 0, "created_by": 7,
    }
    return Reminder(**{**fields, **kw})  # type: ignore[arg-type]


def test_the_posted_reminder_lists_todays_moves_and_the_safety_note(catalog: Catalog) -> None:
    for routine in catalog.routines:
        data = assert_fits(reminder_embed(routine, catalog))
        assert data["title"] == f"Before you run: {routine.name} (about {routine.minutes} min)"
        assert "**Done**" in data["description"] and "**Show me how**" in data["description"]
        [moves] = data["fields"]
        assert moves["name"] == "Today's moves"
        assert moves["value"].splitlines() == [
            f"**{i}.** {step.name}: {step.dose}" for i, step in enumerate(routine.steps, 1)]
        assert data["footer"]["text"].endswith(catalog.safety)


def test_a_reminder_without_a_routine_still_says_what_to_do(catalog: Catalog) -> None:
    data = assert_fits(reminder_embed(None, catalog))
    assert data["title"] == "Time to switch on before your run"
    assert "`/routine`" in data["description"] and "fields" not in data
    assert data["footer"]["text"].endswith(catalog.safety)


def test_schedule_and_next_firing_in_the_reminders_zone() -> None:
    r = reminder()
    assert schedule_text(r) == "06:30 Mon, Wed, Fri (Europe/Berlin)"
    assert next_text(r) == f"next Mon 30 Mar 06:30 Europe/Berlin (<t:{DUE}:R>)"
    utc = reminder(timezone=None, days=0b1111111)
    assert schedule_text(utc) == "06:30 every day (UTC)"
    assert next_text(utc) == f"next Mon 30 Mar 04:30 UTC (<t:{DUE}:R>)"
    assert schedule_text(reminder(days=0b0011111)) == "06:30 weekdays (Europe/Berlin)"


def test_a_paused_reminder_says_why_and_a_name_in_the_reason_is_harmless() -> None:
    assert next_text(reminder(next_due=None)) == "paused"
    assert next_text(reminder(next_due=None, paused="channel deleted")) == (
        "paused: channel deleted")
    hostile = "by \u202e<@1> @everyone **admin** <@&2>\n" + "z" * 300
    text = next_text(reminder(next_due=None, paused=hostile))
    assert text.startswith("paused: by ")
    assert_safe(text)
    assert "**admin**" not in text and len(text) < len("paused: ") + 150  # cut to 120 (+escapes)


def test_the_list_shows_each_reminder_with_its_channel_role_and_routine(catalog: Catalog
                                                                         ) -> None:
    quick = catalog.routine("quick")
    assert quick is not None
    rows = [reminder(1), reminder(2, routine=None, role_id=900),
            reminder(3, next_due=None, paused="no permission in <#503>")]
    data = assert_fits(reminder_list_embed(rows, catalog))
    assert data["title"] == "Club reminders"
    assert [f["name"] for f in data["fields"]] == ["#1", "#2", "#3"]
    first, second, third = (f["value"].splitlines() for f in data["fields"])
    assert first == ["<#501> at 06:30 Mon, Wed, Fri (Europe/Berlin)",
                     f"next Mon 30 Mar 06:30 Europe/Berlin (<t:{DUE}:R>)",
                     f"routine: {quick.name}"]
    assert second[2:] == ["routine: rotating", "pings <@&900>"]
    assert third[1] == "paused: no permission in <\u200b#503>"


def test_an_empty_list_says_how_to_add_one(catalog: Catalog) -> None:
    data = assert_fits(reminder_list_embed([], catalog))
    assert data["description"] == "None yet. Add one with `/reminder add`."
    assert "fields" not in data


def test_a_long_list_keeps_to_25_fields_and_discords_total(catalog: Catalog) -> None:
    long_reason = "paused by " + "w" * 120
    rows = [reminder(i, next_due=None, paused=long_reason, role_id=10**18 + i,
                     channel_id=10**19 + i, timezone="America/Argentina/ComodRivadavia")
            for i in range(1, 41)]
    data = assert_fits(reminder_list_embed(rows, catalog))
    shown_ids = [f["name"] for f in data["fields"]]
    assert shown_ids == [f"#{i}" for i in range(1, len(shown_ids) + 1)]  # the first ones
    assert 0 < len(shown_ids) <= 25
    for i, f in enumerate(data["fields"], 1):
        assert f["value"].splitlines()[3] == f"pings <@&{10**18 + i}>"

"""Run embeds (ui/run_embeds.py): the post before a run, whatever its organiser named it, and
/runs list, within Discord's limits however many runs a server has (at most 100)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cogs.runs import run_event
from stride.catalog import Catalog
from stride.records import RunEvent, RunSettings
from stride.runs import UpcomingRun
from ui.run_embeds import RUNS_PER_PAGE, run_embed, runs_list_embed

from .checks import assert_fits, assert_safe, text_of

START = 1_800_000_000
HOSTILE = ["@everyone **Track** run", "<@&123> <#456> </x:1> ||spoiler||", "\u202eevil\u200b",
           "x" * 100, "`code` [link](https://example.com) # heading"]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_run_post_shows_any_name_and_place_as_typed_and_pings_no_one(
    catalog: Catalog, name: str
) -> None:
    event = RunEvent(10, 77, name, START, location=name)
    for routine in [None, *catalog.routines]:
        data = assert_fits(run_embed(event, routine, catalog))
        assert_safe(text_of(data))
        assert data["url"] == "https://discord.com/events/10/77"
        assert f"<t:{START}:t>" in data["description"]
        assert data["footer"]["text"].endswith(catalog.safety)


def test_a_voice_or_stage_run_names_its_channel(catalog: Catalog) -> None:
    data = assert_fits(run_embed(RunEvent(10, 77, "Intervals", START, channel_id=555),
                                 catalog.routines[0], catalog))
    assert "Where: <#555>" in data["description"]


def test_runs_list_pages_fit_with_the_most_runs_a_server_has(catalog: Catalog) -> None:
    settings = RunSettings(10, 500, 30, None, 42, "@everyone " + "m" * 90, 7)
    runs = [UpcomingRun(RunEvent(10, n, HOSTILE[n % len(HOSTILE)] + "y" * 80, START + n,
                                 recurring=n % 2 == 0), START + n - 1800 if n % 3 else None,
                        "Stride lost permission to post in that channel" if n % 3 == 0 else None)
            for n in range(100)]
    pages = -(-100 // RUNS_PER_PAGE)
    seen = 0
    for page in range(1, pages + 1):
        data = assert_fits(runs_list_embed(settings, runs, page, catalog, "Your run DMs: on"))
        assert_safe(text_of(data).replace("<#500>", "").replace("<@&42>", ""))  # the setup's
        seen += sum(line.startswith("**") for line in data["description"].splitlines())
        assert data["footer"]["text"].startswith(f"Page {page} of {pages} (100 runs)")
    assert seen == 100


def test_an_event_payload_becomes_a_run_and_a_malformed_one_nothing() -> None:
    payload = {"id": "77", "guild_id": "10", "name": "Long run", "status": 1,
               "scheduled_start_time": "2027-01-15T07:30:00+00:00", "channel_id": None,
               "entity_metadata": {"location": "Park gate"}, "recurrence_rule": {"frequency": 2}}
    start = int(datetime(2027, 1, 15, 7, 30, tzinfo=UTC).timestamp())
    assert run_event(payload) == RunEvent(10, 77, "Long run", start, 1, "Park gate", None, True)
    assert run_event({**payload, "scheduled_start_time": "soon"}) is None
    assert run_event({"id": "x"}) is None

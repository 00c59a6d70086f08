"""Time-zone helpers: forgiving zone names, autocomplete and local calendar days.

Zones come from the standard `zoneinfo` module; the `tzdata` package (in requirements.txt)
supplies the data on machines without system zone files. A name is accepted only if
`zoneinfo.available_timezones()` lists it, minus a few machine-specific entries (see
`HIDDEN_KEYS`), so an accepted name resolves the same way on every machine.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from stride.errors import UserError

MAX_NAME_LENGTH = 64
EXAMPLE = "Use a name like Europe/Berlin or America/New_York."

# `localtime` and `posixrules` are copies of some other zone that exist only in a system
# zone folder (never in tzdata), so storing them would not be portable; `Factory` is a
# placeholder zone whose abbreviation is "-00". `posix/` and `right/` are alternative trees.
HIDDEN_KEYS = frozenset({"localtime", "posixrules", "Factory"})
HIDDEN_PREFIXES = ("posix/", "right/")

# Areas of the current tzdb naming scheme; other top-level names (US/, Canada/, EST5EDT, ...)
# are backward-compatibility aliases and rank after these.
REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)

# Shown first for an empty autocomplete query and preferred when ranking ties.
POPULAR = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Istanbul",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Africa/Lagos",
    "Africa/Johannesburg",
)

# Only names made of these characters are repeated back in an error message, so a reply never
# carries mentions (@everyone), markdown or control characters typed by the member.
# (An underscore only inside a word: "New_York" formats nothing, "_this_" would.)
_ECHO_SAFE = re.compile(r"(?:[A-Za-z0-9 /+\-.,]|(?<=[A-Za-z0-9])_(?=[A-Za-z0-9]))+", re.ASCII)

_SPACES = re.compile(r"[\s_]+")
_WORD_HYPHEN = re.compile(r"(?<=[a-z])-(?=[a-z])")
_SLASH = re.compile(r"_?/_?")


def _echo(text: str, otherwise: str) -> str:
    """`text` in quotes for an error message, or `otherwise` if it is not safe to repeat."""
    return f"'{text}'" if _ECHO_SAFE.fullmatch(text) else otherwise


def _normalize(text: str) -> str:
    """Fold case, spaces and word hyphens: ' America/New York ' -> 'america/new_york'.

    Hyphens are folded only between letters ('Port-au-Prince'), so 'Etc/GMT-5' and
    'Etc/GMT+5' stay apart.
    """
    text = _SPACES.sub("_", text.strip().lower())
    text = _WORD_HYPHEN.sub("_", text)
    return _SLASH.sub("/", text).strip("_")


@dataclass(frozen=True)
class _Index:
    keys: tuple[str, ...]  # all accepted keys, best-known first
    by_name: dict[str, str]  # normalized full key -> key
    by_city: dict[str, tuple[str, ...]]  # normalized last segment -> keys, preferred first
    norm: dict[str, str]  # key -> normalized key


def _rank(key: str) -> tuple[int, int, int, str]:
    """Sort key: popular first, then current-scheme names, then deeper names, then A-Z."""
    popular = POPULAR.index(key) if key in POPULAR else len(POPULAR)
    area = key.split("/", 1)[0]
    return (popular, 0 if area in REGIONS else 1, -key.count("/"), key)


@cache
def _index() -> _Index:
    keys = tuple(
        sorted(
            (
                k
                for k in available_timezones()
                if k not in HIDDEN_KEYS and not k.startswith(HIDDEN_PREFIXES)
            ),
            key=_rank,
        )
    )
    by_name: dict[str, str] = {}
    cities: dict[str, list[str]] = {}
    norm: dict[str, str] = {}
    for key in keys:
        n = _normalize(key)
        norm[key] = n
        by_name.setdefault(n, key)
        cities.setdefault(n.rsplit("/", 1)[-1], []).append(key)
    return _Index(keys, by_name, {c: tuple(ks) for c, ks in cities.items()}, norm)


def _city_choice(candidates: tuple[str, ...]) -> str | None:
    """The key a bare city name means, or None if it is genuinely ambiguous.

    'buenos aires' -> America/Argentina/Buenos_Aires (the deeper, current name), but
    'eastern' (Canada/Eastern or US/Eastern) is refused.
    """
    if len(candidates) == 1:
        return candidates[0]
    best = candidates[0]  # already sorted by _rank
    runner_up = candidates[1]
    if best in POPULAR or _rank(best)[1:3] != _rank(runner_up)[1:3]:
        return best
    area = best.split("/", 1)[0]
    # Same-depth current-scheme names (Asia/Nicosia, Europe/Nicosia) are links to one zone.
    return best if area in REGIONS else None


def _suggestions(text: str, limit: int = 3) -> list[str]:
    index = _index()
    found = search_zones(text, limit)
    q = _normalize(text)
    pool = list(index.by_name) + list(index.by_city)
    for match in difflib.get_close_matches(q, pool, n=limit * 2, cutoff=0.6):
        keys = [index.by_name[match]] if match in index.by_name else index.by_city[match]
        for key in keys:
            if key not in found:
                found.append(key)
    return found[:limit]


def resolve_zone(name: str) -> ZoneInfo:
    """The zone called `name`, read forgivingly ('europe/berlin', 'new york', ' UTC ').

    Raises UserError (with up to three suggestions) for empty, over-long or unknown names.
    """
    text = name.strip() if isinstance(name, str) else ""
    if not text:
        raise UserError(f"Please give a time zone. {EXAMPLE}")
    if len(text) > MAX_NAME_LENGTH:
        raise UserError(f"That time zone name is too long. {EXAMPLE}")
    index = _index()
    q = _normalize(text)
    key = index.by_name.get(q)
    if key is None and "/" not in q and q in index.by_city:
        candidates = index.by_city[q]
        key = _city_choice(candidates)
        if key is None:
            raise UserError(
                f"{_echo(text, 'That name')} could mean several time zones: "
                f"{', '.join(candidates[:3])}. "
                "Please pick one."
            )
    if key is None:
        hints = _suggestions(text)
        hint = f" Did you mean: {', '.join(hints)}?" if hints else ""
        raise UserError(f"I don't know the time zone {_echo(text, 'you typed')}.{hint} {EXAMPLE}")
    return ZoneInfo(key)


def search_zones(query: str, limit: int = 25) -> list[str]:
    """Zone names matching `query` anywhere (case-insensitive), best first, at most `limit`.

    Exact names come first, then names whose city (last part) starts with the query, then
    names with any part starting with it, then names merely containing it. An empty query
    lists popular zones first.
    """
    if limit <= 0:
        return []
    index = _index()
    q = _normalize(query) if isinstance(query, str) else ""
    if not q:
        return list(index.keys[:limit])
    if len(q) > MAX_NAME_LENGTH:
        return []
    scored: list[tuple[int, int, str]] = []
    for position, key in enumerate(index.keys):
        n = index.norm[key]
        if q not in n:
            continue
        parts = n.split("/")
        if q in (n, parts[-1]):
            score = 0
        elif parts[-1].startswith(q):
            score = 1
        elif n.startswith(q) or any(p.startswith(q) for p in parts):
            score = 2
        else:
            score = 3
        scored.append((score, position, key))
    scored.sort()
    return [key for _, _, key in scored[:limit]]


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"need a timezone-aware datetime, got naive {instant!r}")


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar day in `zone` at `instant` (which must be timezone-aware)."""
    _require_aware(instant)
    return instant.astimezone(zone).date()


def wall_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the clocks in `zone` read `at` on the local day `day`.

    Precisely: the first instant whose local wall time is at or after `day` + `at`. So:

    - normally, the one instant showing that wall time;
    - if the wall time happens twice (clocks fall back), the first occurrence;
    - if it never happens (clocks jump over it), the jump, the first valid instant after it
      (Europe/Berlin 2026-03-29 02:30 -> 03:00 CEST = 01:00 UTC);
    - if the whole day is skipped (Pacific/Apia, 2011-12-30), the start of the next day that
      exists.

    `at` must be naive (no tzinfo); its `fold` is ignored. The result is aware, in UTC, and
    never decreases as `day` + `at` increases.
    """
    if at.tzinfo is not None:
        raise ValueError(f"need a naive time of day, got {at!r}")
    if at.fold:
        at = at.replace(fold=0)
    local = datetime.combine(day, at, tzinfo=zone)
    offset = local.utcoffset()
    if offset is not None:
        # fold=0 reads a repeated wall time with the earlier offset, so if the wall time
        # exists this is its first occurrence. (Same tzinfo: `==` compares wall times.)
        candidate = datetime.combine(day, at, tzinfo=UTC) - offset
        if candidate.astimezone(zone) == local:
            return candidate
    wall = datetime.combine(day, at)
    found = []
    for fold in (0, 1):
        candidate = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if candidate.astimezone(zone).replace(tzinfo=None) == wall:
            found.append(candidate)
    if found:
        return min(found)
    # The wall time is in a gap: the two folds read it with the offsets either side of the
    # jump, which brackets the jump instant. Bisect over whole POSIX seconds (tzdb changes
    # happen on whole seconds) for the first instant whose local time is at or after `wall`.
    first, second = (wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    lo = math.floor(min(first, second).timestamp())
    hi = math.ceil(max(first, second).timestamp())

    def reached(seconds: int) -> bool:
        return datetime.fromtimestamp(seconds, zone).replace(tzinfo=None) >= wall

    for _ in range(3):  # not expected with tzdb data; widen the bracket to stay correct
        if reached(hi) and not reached(lo):
            break
        lo, hi = lo - 86_400, hi + 86_400
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which the local calendar day `day` begins in `zone`.

    Usually local midnight. If midnight is repeated (clocks fall back to 00:00) it is the
    first one; if midnight is skipped (clocks jump from 00:00 to 01:00, e.g. America/Santiago
    in September) the day begins at the jump, its first valid local instant. If the whole
    day is skipped (Pacific/Apia, 2011-12-30) this is the start of the next day that exists.
    This is `wall_instant(day, time(0), zone)`.
    """
    return wall_instant(day, time(0), zone)

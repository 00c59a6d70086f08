"""The exercise library: typed records, loading and validating the data file, searching it."""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from .errors import UserError

CATEGORIES: dict[str, str] = {
    "activation": "Pre-run activation",
    "drill": "During-run drills",
    "form": "Running form",
    "strength": "Strength",
    "mobility": "After the run: mobility",
}
"""Category id -> display name, in the order the library is browsed."""

ROUTINE_KINDS: dict[str, str] = {
    "pre-run": "Before the run",
    "drills": "During or after a run",
    "strength": "On an easy day",
    "mobility": "After the run",
}
"""Routine kind -> when it is done."""

PLACEHOLDERS = frozenset({"", "none", "no", "nothing", "n a", "na", "nil", "no equipment"})
"""Equipment texts (normalized) that mean 'no equipment': leave the field out instead."""

SCHEMA_VERSION = 1
MAX_QUERY = 100
"""Characters of a typed name compared by spelling for 'did you mean': names and aliases are at
most 80 long, and the comparison's cost grows with the length (Discord allows 6,000)."""
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class CatalogError(ValueError):
    """The data file cannot be used; the message names the file, the entry and the field."""


def is_placeholder(equipment: str | None) -> bool:
    """Whether an equipment text says there is none ('None', '-', 'n/a', ...)."""
    return equipment is None or normalize(equipment) in PLACEHOLDERS


@dataclass(frozen=True, slots=True)
class Exercise:
    id: str
    name: str
    category: str
    summary: str
    steps: tuple[str, ...]
    dose: str
    aliases: tuple[str, ...] = ()
    equipment: str | None = None
    cues: tuple[str, ...] = ()
    mistakes: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    seconds: int | None = None
    easier: str | None = None
    harder: str | None = None
    without: str | None = None  # what to do without the equipment

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category]

    @property
    def needs_equipment(self) -> bool:
        """Done with equipment as described (a `without` alternative is another move)."""
        return not is_placeholder(self.equipment)

    @property
    def myrtl(self) -> bool:
        """Part of the Myrtl hip circuit."""
        return "myrtl" in self.tags


@dataclass(frozen=True, slots=True)
class RoutineStep:
    exercise: Exercise
    dose: str
    seconds: int | None = None  # the step's own time; else the exercise's

    @property
    def name(self) -> str:
        return self.exercise.name

    @property
    def duration(self) -> int:
        """Seconds the step takes: its own time, else its exercise's (0 if neither)."""
        return self.seconds if self.seconds is not None else (self.exercise.seconds or 0)


@dataclass(frozen=True, slots=True)
class Routine:
    id: str
    name: str
    summary: str
    minutes: int
    steps: tuple[RoutineStep, ...]
    kind: str = "pre-run"

    @property
    def total_seconds(self) -> int:
        return sum(step.duration for step in self.steps)

    @property
    def equipment(self) -> list[str]:
        """The real equipment its moves use, each once, in the order they come."""
        found: dict[str, str] = {}
        for step in self.steps:
            item = step.exercise.equipment
            if item is not None and not is_placeholder(item):
                found.setdefault(normalize(item), item)
        return list(found.values())

    @property
    def needs_equipment(self) -> bool:
        return any(step.exercise.needs_equipment for step in self.steps)


def rounded_minutes(seconds: int) -> int:
    """Seconds as whole minutes, to the nearest (half a minute rounds up), at least 1."""
    return max(1, (seconds + 30) // 60)


@dataclass(frozen=True, slots=True)
class Match:
    """A search hit: the entry, and how well the query matched (higher is better)."""

    exercise: Exercise
    score: float


# --- validation -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Text:
    max_len: int
    required: bool = True


@dataclass(frozen=True, slots=True)
class _TextList:
    max_items: int
    max_len: int
    min_items: int = 0


@dataclass(frozen=True, slots=True)
class _Int:
    low: int
    high: int
    required: bool = True


_EXERCISE_FIELDS: dict[str, Any] = {
    "id": _Text(40),
    "name": _Text(80),
    "category": _Text(20),
    "summary": _Text(300),
    "steps": _TextList(12, 250, min_items=1),
    "dose": _Text(150),
    "aliases": _TextList(10, 40),
    "equipment": _Text(100, required=False),
    "cues": _TextList(6, 150),
    "mistakes": _TextList(6, 150),
    "cautions": _TextList(4, 250),
    "related": _TextList(5, 40),
    "tags": _TextList(8, 30),
    "seconds": _Int(10, 900, required=False),
    # Each fits one embed field (1,024) with room to spare; the card stays under 6,000.
    "easier": _Text(200, required=False),
    "harder": _Text(200, required=False),
    "without": _Text(200, required=False),
}
_ROUTINE_FIELDS: dict[str, Any] = {
    "id": _Text(40),
    "name": _Text(80),
    "kind": _Text(20),
    "summary": _Text(300),
    "minutes": _Int(1, 90),
    "steps": None,  # checked by _routine_steps
}
_STEP_FIELDS: dict[str, Any] = {
    "exercise": _Text(40), "dose": _Text(150, required=False),
    "seconds": _Int(10, 900, required=False),
}
_TOP_FIELDS = {"schema", "safety", "exercises", "routines", "figures"}
"""`figures` (poses, in a club's file) are checked by stride.figures."""


class _Checker:
    """Validates one table against a field spec, raising errors that say where the problem is."""

    def __init__(self, source: str, where: str, table: Any) -> None:
        self.source, self.where = source, where
        if not isinstance(table, Mapping):
            self.fail(None, "must be a table of fields")
        self.table: Mapping[str, Any] = table

    def fail(self, name: str | None, problem: str) -> NoReturn:
        spot = f"{self.where}, field '{name}'" if name else self.where
        raise CatalogError(f"{self.source}: {spot}: {problem}")

    def check(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.table) - set(spec))
        if unknown:
            self.fail(unknown[0], f"unknown field (allowed: {', '.join(spec)})")
        out: dict[str, Any] = {}
        for name, rule in spec.items():
            if rule is None:
                continue
            value = self.table.get(name)
            if isinstance(rule, _Text):
                out[name] = self._text(name, value, rule)
            elif isinstance(rule, _TextList):
                out[name] = self._text_list(name, value, rule)
            else:
                out[name] = self._int(name, value, rule)
        return out

    def _text(self, name: str, value: Any, rule: _Text) -> str | None:
        if value is None:
            if rule.required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(name, "must be a non-empty text")
        text = value.strip()
        if len(text) > rule.max_len:
            self.fail(name, f"is {len(text)} characters long; at most {rule.max_len}")
        return text

    def _text_list(self, name: str, value: Any, rule: _TextList) -> tuple[str, ...]:
        if value is None:
            if rule.min_items:
                self.fail(name, "is required")
            value = []
        if not isinstance(value, list):
            self.fail(name, "must be a list of texts, like [\"first\", \"second\"]")
        if not rule.min_items <= len(value) <= rule.max_items:
            self.fail(name, f"has {len(value)} items; allowed {rule.min_items} to {rule.max_items}")
        items = []
        for i, item in enumerate(value, 1):
            if not isinstance(item, str) or not item.strip():
                self.fail(name, f"item {i} must be a non-empty text")
            if len(item.strip()) > rule.max_len:
                self.fail(name, f"item {i} is {len(item.strip())} characters; "
                          f"at most {rule.max_len}")
            items.append(item.strip())
        return tuple(items)

    def _int(self, name: str, value: Any, rule: _Int) -> int | None:
        if value is None:
            if rule.required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(name, "must be a whole number")
        if not rule.low <= value <= rule.high:
            self.fail(name, f"is {value}; must be from {rule.low} to {rule.high}")
        return value


def _entry_label(kind: str, index: int, table: Any) -> str:
    ident = table.get("id") if isinstance(table, Mapping) else None
    return f"{kind} #{index} ({ident!r})" if isinstance(ident, str) else f"{kind} #{index}"


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: 'Clam-Shell!' -> 'clam shell'."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _squash(text: str) -> str:
    return normalize(text).replace(" ", "")


def _search_key(text: str) -> tuple[str, str]:
    """A name or alias prepared for matching: (squashed, ' word word')."""
    words = normalize(text).split()
    return "".join(words), " " + " ".join(words)


def _key_score(squashed_query: str, word_starts: list[str], key: tuple[str, str]) -> float:
    """How well a query matches one prepared name or alias: 3 exact ... 0 not at all.

    `word_starts` are the query's words each with a leading space, so that a substring test
    on the key's ' word word' form asks whether the word starts one of the key's words.
    """
    squashed_key, spaced = key
    if squashed_key == squashed_query:
        return 3.0
    if squashed_key.startswith(squashed_query):
        return 2.0
    if all(part in spaced for part in word_starts):
        return 1.5
    if len(squashed_query) >= 4 and squashed_query in squashed_key:
        return 1.0
    return 0.0


# --- the catalog ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Catalog:
    """All exercises and routines, with lookups. Immutable once built."""

    exercises: tuple[Exercise, ...]
    routines: tuple[Routine, ...]
    safety: str
    _by_id: dict[str, Exercise] = field(repr=False, default_factory=dict)
    _keys: dict[str, Exercise] = field(repr=False, default_factory=dict)
    _routines: dict[str, Routine] = field(repr=False, default_factory=dict)
    _search_keys: dict[str, tuple[tuple[str, str], ...]] = field(
        repr=False, default_factory=dict
    )
    # Per exercise, all its squashed keys and all its ' word' forms, each joined by '|' (which
    # no key contains): one substring test tells whether any key can match at all.
    _blobs: dict[str, tuple[str, str]] = field(repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_id.update({e.id: e for e in self.exercises})
        for r in self.routines:
            for key in (r.id, _squash(r.name), _squash(r.id)):
                self._routines.setdefault(key, r)
        for e in self.exercises:
            for key in (e.id, e.name, *e.aliases):
                self._keys.setdefault(_squash(key), e)
            # The name first, then id and aliases, prepared for search().
            keys = tuple(_search_key(key) for key in (e.name, e.id, *e.aliases))
            self._search_keys[e.id] = keys
            self._blobs[e.id] = ("|".join(k for k, _ in keys), "|".join(w for _, w in keys))

    # lookups
    def get(self, exercise_id: str) -> Exercise | None:
        return self._by_id.get(exercise_id)

    def routine(self, routine_id: str) -> Routine | None:
        """The routine with this id or name (ignoring case, spaces and punctuation)."""
        found = self._routines.get(routine_id)  # the usual case: an id from a button
        return found if found is not None else self._routines.get(_squash(routine_id))

    def require_routine(self, name: str) -> Routine:
        """The routine with this id or name, or a UserError naming the routines there are
        (the name typed is not repeated: it could hold anything)."""
        found = self.routine(name)
        if found is None:
            known = ", ".join(f"`{r.id}`" for r in self.routines)
            raise UserError(f"There is no routine by that name. Try one of: {known}.")
        return found

    def in_category(self, category: str) -> list[Exercise]:
        return [e for e in self.exercises if e.category == category]

    def find(self, query: str) -> Exercise | None:
        """The entry whose id, name or alias is the query (ignoring case, spaces, punctuation)."""
        return self._keys.get(_squash(query))

    def search(self, query: str, limit: int = 25) -> list[Match]:
        """Entries matching any part of a name or alias, best first; all entries for ''."""
        q = normalize(query)
        if not q:
            return [Match(e, 0.0) for e in self.exercises[:limit]]
        squashed, word_starts = q.replace(" ", ""), [" " + w for w in q.split()]
        hits: list[Match] = []
        for e in self.exercises:
            squashed_keys, spaced_keys = self._blobs[e.id]
            # Every score needs the query inside a key, or its first word starting a key's word.
            if squashed not in squashed_keys and word_starts[0] not in spaced_keys:
                continue
            best = 0.0
            for rank, key in enumerate(self._search_keys[e.id]):
                score = _key_score(squashed, word_starts, key) - (0.0 if rank == 0 else 0.05)
                if score <= 0:
                    continue
                best = max(best, score)
            if best:
                hits.append(Match(e, best))
        hits.sort(key=lambda m: (-m.score, m.exercise.name))
        return hits[:limit]

    def suggest(self, query: str, limit: int = 3) -> list[Exercise]:
        """Closest entries for 'did you mean': search hits first, then by spelling."""
        found = [m.exercise for m in self.search(query, limit)] if normalize(query) else []
        q = _squash(query)[:MAX_QUERY]  # no name is longer; spelling comparisons stay quick
        scored: dict[str, float] = {}
        for key, exercise in self._keys.items():
            ratio = difflib.SequenceMatcher(None, q, key).ratio()
            if ratio > scored.get(exercise.id, -1.0):
                scored[exercise.id] = ratio
        for exercise_id, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0])):
            if len(found) >= limit:
                break
            if self._by_id[exercise_id] not in found:
                found.append(self._by_id[exercise_id])
        return found

    def resolve(self, query: str) -> Exercise | None:
        """What a user meant: an exact name or alias, else the one clear search hit."""
        exact = self.find(query)
        if exact is not None or not normalize(query):
            return exact
        hits = self.search(query, limit=2)
        if len(hits) == 1 or (len(hits) == 2 and hits[0].score >= 2.0 > hits[1].score):
            return hits[0].exercise
        return None


def load_catalog(path: str | Path, club_path: str | Path | None = None) -> Catalog:
    """Read and validate the data file, with the club's own file merged over it when
    `club_path` is given and exists; raise CatalogError naming the file, entry and field."""
    path = Path(path)
    raw = _read(path)
    club = Path(club_path) if club_path is not None else None
    if club is None or not club.is_file():
        return parse_catalog(raw, str(path))
    return parse_catalog(raw, str(path), club=_read(club), club_source=str(club))


def _read(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise CatalogError(f"{source}: is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{source}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Entry:
    """One [[exercises]] or [[routines]] table, and where it came from."""

    source: str
    index: int  # 1-based, in its own file
    table: Any
    club: bool = False

    def checker(self, kind: str) -> _Checker:
        return _Checker(self.source, _entry_label(kind, self.index, self.table), self.table)


def parse_catalog(
    raw: Mapping[str, Any], source: str = "<data>", *,
    club: Mapping[str, Any] | None = None, club_source: str = "<club data>",
) -> Catalog:
    """Validate already-parsed data (see load_catalog), with the club's own data merged over
    it: an entry whose id is new is added, one with a shipped id replaces that entry whole
    (exercises and routines alike). The merged library is validated as one; errors name the
    file each entry came from."""
    top = _Checker(source, "top level", raw)
    unknown = sorted(set(raw) - _TOP_FIELDS)
    if unknown:
        top.fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(_TOP_FIELDS))})")
    schema = raw.get("schema")
    if type(schema) is not int or schema != SCHEMA_VERSION:  # true and 1.0 equal 1 in Python
        top.fail("schema", f"must be {SCHEMA_VERSION}")
    safety = top._text("safety", raw.get("safety"), _Text(300)) or ""
    exercises = _entries(source, _tables(source, raw.get("exercises"), "exercises"))
    routines = _entries(source, _tables(source, raw.get("routines"), "routines"))
    if club is not None:
        extra = _Checker(club_source, "top level", club)
        unknown = sorted(set(club) - _TOP_FIELDS)
        if unknown:
            extra.fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(_TOP_FIELDS))})")
        if "schema" in club and (type(club["schema"]) is not int
                                 or club["schema"] != SCHEMA_VERSION):
            extra.fail("schema", f"must be {SCHEMA_VERSION} (or left out)")
        if "safety" in club:
            safety = extra._text("safety", club["safety"], _Text(300)) or safety
        for kind, merged in (("exercises", exercises), ("routines", routines)):
            value = club.get(kind, [])
            if not isinstance(value, list):
                extra.fail(kind, f"must be [[{kind}]] tables")
            _overlay(merged, _entries(club_source, value, club=True))
    found = _exercises(exercises)
    club_ids = {_entry_id(e) for e in exercises if e.club}
    plans = _routines(routines, {e.id: e for e in found}, club_ids, club_source)
    return Catalog(exercises=tuple(found), routines=tuple(plans), safety=safety)


def _entries(source: str, tables: list[Any], *, club: bool = False) -> list[_Entry]:
    return [_Entry(source, i, table, club) for i, table in enumerate(tables, 1)]


def _entry_id(entry: _Entry) -> Any:
    return entry.table.get("id") if isinstance(entry.table, Mapping) else None


def _overlay(merged: list[_Entry], extra: list[_Entry]) -> None:
    """The club's entries over the shipped ones: same id replaces in place, new id appends.
    A second club entry with the same id is appended, so the duplicate is reported."""
    position = {_entry_id(e): i for i, e in enumerate(merged) if isinstance(_entry_id(e), str)}
    replaced: set[str] = set()
    for entry in extra:
        ident = _entry_id(entry)
        if isinstance(ident, str) and ident in position and ident not in replaced:
            merged[position[ident]] = entry
            replaced.add(ident)
        else:
            merged.append(entry)


def _tables(source: str, value: Any, kind: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise CatalogError(
            f"{source}: top level, field '{kind}': needs at least one [[{kind}]] table"
        )
    return value


def _exercises(entries: list[_Entry]) -> list[Exercise]:
    found: list[Exercise] = []
    checked: list[tuple[_Entry, _Checker, dict[str, Any]]] = []
    seen: set[str] = set()
    for entry in entries:
        checker = entry.checker("exercise")
        data = checker.check(_EXERCISE_FIELDS)
        if not SLUG.match(data["id"]):
            checker.fail("id", "must be lower-case letters, digits and dashes, like 'side-plank'")
        if data["id"] in seen:
            checker.fail("id", f"{data['id']!r} is used by another exercise in this file")
        seen.add(data["id"])
        if data["category"] not in CATEGORIES:
            checker.fail("category", f"unknown category; use one of: {', '.join(CATEGORIES)}")
        for tag in data["tags"]:
            if not SLUG.match(tag):
                checker.fail("tags", f"tag {tag!r} must be lower-case letters, digits and dashes")
        if data["equipment"] is not None and is_placeholder(data["equipment"]):
            checker.fail("equipment", f"{data['equipment']!r} is not equipment; leave the "
                         "field out when the move needs none")
        if data["without"] is not None and data["equipment"] is None:
            checker.fail("without", "says what to do without the equipment, but there is no "
                         "'equipment'; add it or leave 'without' out")
        checked.append((entry, checker, data))
        found.append(Exercise(**data))
    # Names and aliases: the club's entries last, so a clash is reported on the club's entry.
    owners: dict[str, str] = {}
    for _, checker, data in sorted(checked, key=lambda c: c[0].club):
        for fname, key in [("id", data["id"]), ("name", data["name"])] + [
            ("aliases", a) for a in data["aliases"]
        ]:
            squashed = _squash(key)
            if not squashed:
                checker.fail(fname, f"{key!r} has no letters or digits")
            owner = owners.get(squashed)
            if owner is not None and owner != data["id"]:
                checker.fail(fname, f"{key!r} is already used by entry {owner!r}")
            owners[squashed] = data["id"]
    ids = {e.id for e in found}
    for (_, checker, _), e in zip(checked, found, strict=True):
        for rel in e.related:
            if rel not in ids or rel == e.id:
                checker.fail("related", f"{rel!r} is not another entry's id")
    return found


def _routines(entries: list[_Entry], by_id: Mapping[str, Exercise], club_ids: set[Any],
              club_source: str) -> list[Routine]:
    found: list[Routine] = []
    seen: set[str] = set()
    for entry in entries:
        checker = entry.checker("routine")
        data = checker.check(_ROUTINE_FIELDS)
        if not SLUG.match(data["id"]):
            checker.fail("id", "must be lower-case letters, digits and dashes, like 'quick'")
        if data["id"] in seen:
            checker.fail("id", f"{data['id']!r} is used by another routine")
        seen.add(data["id"])
        if data["kind"] not in ROUTINE_KINDS:
            checker.fail("kind", f"unknown kind; use one of: {', '.join(ROUTINE_KINDS)}")
        # A shipped routine timed by exercises the club replaced: the fix is in the club's file.
        hint = "" if entry.club else _club_hint(entry.table.get("steps"), club_ids, club_source)
        data["steps"] = tuple(_routine_steps(checker, entry.table.get("steps"), by_id, hint))
        routine = Routine(**data)
        _check_minutes(checker, routine, hint)
        found.append(routine)
    return found


def _club_hint(steps: Any, club_ids: set[Any], club_source: str) -> str:
    if not isinstance(steps, list):
        return ""
    timed_by_club = sorted({s["exercise"] for s in steps if isinstance(s, Mapping)
                            and "seconds" not in s and isinstance(s.get("exercise"), str)
                            and s["exercise"] in club_ids})
    if not timed_by_club:
        return ""
    names = ", ".join(repr(i) for i in timed_by_club)
    return (f" (the time of {names} comes from {club_source}: copy this routine there, "
            "with the same id, and fix it in the copy)")


def _check_minutes(checker: _Checker, routine: Routine, hint: str = "") -> None:
    total = routine.total_seconds
    expected = rounded_minutes(total)
    if routine.minutes == expected:
        return
    spent = f"{total // 60} min {total % 60} s" if total % 60 else f"{total // 60} min"
    problem = (f"is {routine.minutes}, but its steps take {spent} in all; make it {expected} "
               f"(or change the steps' seconds){hint}")
    checker.fail("minutes", problem)


def _routine_steps(
    checker: _Checker, value: Any, by_id: Mapping[str, Exercise], hint: str = ""
) -> Iterable[RoutineStep]:
    if not isinstance(value, list) or not 1 <= len(value) <= 15:
        checker.fail("steps", "must list 1 to 15 steps like { exercise = \"clams\" }")
    for i, step in enumerate(value, 1):
        inner = _Checker(checker.source, f"{checker.where}, step {i}", step)
        data = inner.check(_STEP_FIELDS)
        exercise = by_id.get(data["exercise"])
        if exercise is None:
            inner.fail("exercise", f"{data['exercise']!r} is not an exercise id in the library")
        if data["seconds"] is None and exercise.seconds is None:
            inner.fail("seconds", f"is required: exercise {exercise.id!r} has no 'seconds', so "
                       f"give this step its own, like seconds = 60{hint}")
        yield RoutineStep(exercise=exercise, dose=data["dose"] or exercise.dose,
                          seconds=data["seconds"])

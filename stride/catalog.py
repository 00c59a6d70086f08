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
}
"""Category id -> display name, in the order the library is browsed."""

SCHEMA_VERSION = 1
MAX_QUERY = 100
"""Characters of a typed name compared by spelling for 'did you mean': names and aliases are at
most 80 long, and the comparison's cost grows with the length (Discord allows 6,000)."""
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class CatalogError(ValueError):
    """The data file cannot be used; the message names the file, the entry and the field."""


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

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category]

    @property
    def myrtl(self) -> bool:
        """Part of the Myrtl hip circuit."""
        return "myrtl" in self.tags


@dataclass(frozen=True, slots=True)
class RoutineStep:
    exercise: Exercise
    dose: str

    @property
    def name(self) -> str:
        return self.exercise.name


@dataclass(frozen=True, slots=True)
class Routine:
    id: str
    name: str
    summary: str
    minutes: int
    steps: tuple[RoutineStep, ...]


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
}
_ROUTINE_FIELDS: dict[str, Any] = {
    "id": _Text(40),
    "name": _Text(80),
    "summary": _Text(300),
    "minutes": _Int(1, 90),
    "steps": None,  # checked by _routine_steps
}
_STEP_FIELDS: dict[str, Any] = {"exercise": _Text(40), "dose": _Text(150, required=False)}
_TOP_FIELDS = {"schema", "safety", "exercises", "routines"}


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


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate the data file; raise CatalogError naming the file, entry and field."""
    path = Path(path)
    source = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogError(f"{source}: file not found") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{source}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{source}: not valid TOML: {exc}") from None
    return parse_catalog(raw, source)


def parse_catalog(raw: Mapping[str, Any], source: str = "<data>") -> Catalog:
    """Validate already-parsed data (see load_catalog)."""
    top = _Checker(source, "top level", raw)
    unknown = sorted(set(raw) - _TOP_FIELDS)
    if unknown:
        top.fail(unknown[0], f"unknown field (allowed: {', '.join(sorted(_TOP_FIELDS))})")
    schema = raw.get("schema")
    if type(schema) is not int or schema != SCHEMA_VERSION:  # true and 1.0 equal 1 in Python
        top.fail("schema", f"must be {SCHEMA_VERSION}")
    safety = top._text("safety", raw.get("safety"), _Text(300)) or ""
    exercises = _exercises(source, raw.get("exercises"))
    routines = _routines(source, raw.get("routines"), {e.id: e for e in exercises})
    return Catalog(exercises=tuple(exercises), routines=tuple(routines), safety=safety)


def _tables(source: str, value: Any, kind: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise CatalogError(
            f"{source}: top level, field '{kind}': needs at least one [[{kind}]] table"
        )
    return value


def _exercises(source: str, value: Any) -> list[Exercise]:
    found: list[Exercise] = []
    owners: dict[str, str] = {}
    for index, table in enumerate(_tables(source, value, "exercises"), 1):
        checker = _Checker(source, _entry_label("exercise", index, table), table)
        data = checker.check(_EXERCISE_FIELDS)
        if not SLUG.match(data["id"]):
            checker.fail("id", "must be lower-case letters, digits and dashes, like 'side-plank'")
        if data["category"] not in CATEGORIES:
            checker.fail("category", f"unknown category; use one of: {', '.join(CATEGORIES)}")
        for tag in data["tags"]:
            if not SLUG.match(tag):
                checker.fail("tags", f"tag {tag!r} must be lower-case letters, digits and dashes")
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
        found.append(Exercise(**data))
    ids = {e.id for e in found}
    for index, e in enumerate(found, 1):
        for rel in e.related:
            if rel not in ids or rel == e.id:
                where = _entry_label("exercise", index, {"id": e.id})
                raise CatalogError(
                    f"{source}: {where}, field 'related': {rel!r} is not another entry's id"
                )
    return found


def _routines(source: str, value: Any, by_id: Mapping[str, Exercise]) -> list[Routine]:
    found: list[Routine] = []
    seen: set[str] = set()
    for index, table in enumerate(_tables(source, value, "routines"), 1):
        checker = _Checker(source, _entry_label("routine", index, table), table)
        data = checker.check(_ROUTINE_FIELDS)
        if not SLUG.match(data["id"]):
            checker.fail("id", "must be lower-case letters, digits and dashes, like 'quick'")
        if data["id"] in seen:
            checker.fail("id", f"{data['id']!r} is used by another routine")
        seen.add(data["id"])
        data["steps"] = tuple(_routine_steps(checker, table.get("steps"), by_id))
        found.append(Routine(**data))
    return found


def _routine_steps(
    checker: _Checker, value: Any, by_id: Mapping[str, Exercise]
) -> Iterable[RoutineStep]:
    if not isinstance(value, list) or not 1 <= len(value) <= 15:
        checker.fail("steps", "must list 1 to 15 steps like { exercise = \"clams\" }")
    for i, step in enumerate(value, 1):
        inner = _Checker(checker.source, f"{checker.where}, step {i}", step)
        data = inner.check(_STEP_FIELDS)
        exercise = by_id.get(data["exercise"])
        if exercise is None:
            inner.fail("exercise", f"{data['exercise']!r} is not an exercise id in this file")
        yield RoutineStep(exercise=exercise, dose=data["dose"] or exercise.dose)

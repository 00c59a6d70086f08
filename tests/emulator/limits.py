"""Discord's documented size limits, reported the way Discord reports them.

A failed check ends in ``400 {"code": 50035, "message": "Invalid Form Body",
"errors": {...}}`` where ``errors`` nests per field path down to an
``{"_errors": [{"code": ..., "message": ...}]}`` leaf, e.g.::

    {"embeds": {"0": {"description": {"_errors": [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]}}}}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

JSON = dict[str, Any]
Path = tuple[str | int, ...]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
ROW_ITEMS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
SELECT_PLACEHOLDER_MAX = 150
SELECT_OPTION_TEXT_MAX = 100
CHOICES_MAX = 25
CHOICE_NAME_MAX = 100
CHOICE_STRING_VALUE_MAX = 100
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_VALUE_MAX = 4000
COMPONENTS_V2_TOTAL_MAX = 40
ATTACHMENTS_MAX = 10
COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$")
COMMAND_DESCRIPTION_MAX = 100
COMMAND_OPTIONS_MAX = 25
COMMANDS_MAX = 100

BUTTON = 2
SELECT_TYPES = {3, 5, 6, 7, 8}
TEXT_INPUT = 4
LABEL = 18


class FormErrors:
    """Collects field errors and renders Discord's nested ``errors`` object."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, str, str]] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, path: Path, code: str, message: str) -> None:
        self.items.append((path, code, message))

    def max_length(self, path: Path, value: Any, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def bad_length(self, path: Path, value: Any, low: int, high: int) -> None:
        if value is None or not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def query_int(self, path: Path, raw: str, low: int, high: int) -> int:
        """A query-string integer checked like Discord: a non-number or a value outside
        ``low..high`` is an error (the value returned then does not matter)."""
        if not re.fullmatch(r"-?[0-9]+", raw):
            self.add(path, "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.')
            return low
        value = int(raw)
        if value < low:
            message = f"int value should be greater than or equal to {low}."
            self.add(path, "NUMBER_TYPE_MIN", message)
        elif value > high:
            message = f"int value should be less than or equal to {high}."
            self.add(path, "NUMBER_TYPE_MAX", message)
        return value

    def required(self, path: Path) -> None:
        self.add(path, "BASE_TYPE_REQUIRED", "This field is required")

    def to_dict(self, prefix: Path = ()) -> JSON:
        out: JSON = {}
        for path, code, message in self.items:
            node = out
            for part in (*prefix, *path):
                node = node.setdefault(str(part), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return out

    def flat(self, prefix: Path = ()) -> Iterator[tuple[str, str, str]]:
        """Yield ``("embeds.0.title", code, message)`` triples."""
        for path, code, message in self.items:
            yield ".".join(str(p) for p in (*prefix, *path)), code, message


def embed_length(embed: JSON) -> int:
    """Characters Discord counts towards the 6000 per-message embed budget."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(field.get("name") or "") + len(field.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def check_message(payload: JSON, errors: FormErrors, *, content_max: int = CONTENT_MAX) -> None:
    """Message create/edit bodies (channel messages, webhooks, interaction data)."""
    errors.max_length(("content",), payload.get("content"), content_max)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        errors.max_length(("embeds",), embeds, EMBEDS_MAX)
    for i, embed in enumerate(embeds):
        _check_embed(embed, errors, ("embeds", i))
    if sum(embed_length(e) for e in embeds) > EMBED_TOTAL_MAX:
        errors.add(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )
    flags = payload.get("flags") or 0
    _check_components(payload.get("components") or [], errors, v2=bool(flags & (1 << 15)))
    errors.max_length(("attachments",), payload.get("attachments"), ATTACHMENTS_MAX)
    mentions = payload.get("allowed_mentions")
    if mentions:
        parse = mentions.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and mentions.get(kind):
                errors.add(
                    ("allowed_mentions",),
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
                )
            errors.max_length(("allowed_mentions", kind), mentions.get(kind), 100)


def _check_embed(embed: JSON, errors: FormErrors, path: Path) -> None:
    errors.max_length((*path, "title"), embed.get("title"), EMBED_TITLE_MAX)
    errors.max_length((*path, "description"), embed.get("description"), EMBED_DESCRIPTION_MAX)
    fields = embed.get("fields") or []
    errors.max_length((*path, "fields"), fields, EMBED_FIELDS_MAX)
    for j, field in enumerate(fields):
        for key, limit in (("name", EMBED_FIELD_NAME_MAX), ("value", EMBED_FIELD_VALUE_MAX)):
            if field.get(key) is None:
                errors.required((*path, "fields", j, key))
            else:
                errors.max_length((*path, "fields", j, key), field[key], limit)
    footer = embed.get("footer") or {}
    errors.max_length((*path, "footer", "text"), footer.get("text"), EMBED_FOOTER_MAX)
    author = embed.get("author") or {}
    errors.max_length((*path, "author", "name"), author.get("name"), EMBED_AUTHOR_MAX)


def _walk_components(components: list[JSON]) -> Iterator[JSON]:
    for comp in components:
        yield comp
        yield from _walk_components(comp.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(comp.get(key), dict):
                yield from _walk_components([comp[key]])


def _check_components(components: list[JSON], errors: FormErrors, *, v2: bool) -> None:
    seen: set[str] = set()
    if v2:
        total = sum(1 for _ in _walk_components(components))
        if total > COMPONENTS_V2_TOTAL_MAX:
            errors.max_length(("components",), range(total), COMPONENTS_V2_TOTAL_MAX)
    else:
        errors.max_length(("components",), components, ACTION_ROWS_MAX)
    for i, row in enumerate(components):
        path: Path = ("components", i)
        if row.get("type") != 1:
            if not v2:
                errors.add((*path, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1}.")
            continue
        items = row.get("components") or []
        errors.bad_length((*path, "components"), items, 1, ROW_ITEMS_MAX)
        has_select = any(item.get("type") in SELECT_TYPES for item in items)
        for j, item in enumerate(items):
            item_path: Path = (*path, "components", j)
            if has_select and len(items) > 1:
                errors.add(
                    item_path,
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
            _check_item(item, errors, item_path, seen)


def _check_item(item: JSON, errors: FormErrors, path: Path, seen: set[str]) -> None:
    custom_id = item.get("custom_id")
    if custom_id is not None:
        errors.bad_length((*path, "custom_id"), custom_id, 1, CUSTOM_ID_MAX)
        if custom_id in seen:
            errors.add(
                (*path, "custom_id"),
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        seen.add(custom_id)
    kind = item.get("type")
    if kind == BUTTON:
        errors.max_length((*path, "label"), item.get("label"), BUTTON_LABEL_MAX)
        style = item.get("style")
        if style == 5 and not item.get("url"):
            errors.required((*path, "url"))
        elif style in (1, 2, 3, 4) and custom_id is None:
            errors.required((*path, "custom_id"))
    elif kind in SELECT_TYPES:
        if custom_id is None:
            errors.required((*path, "custom_id"))
        errors.max_length((*path, "placeholder"), item.get("placeholder"), SELECT_PLACEHOLDER_MAX)
        for key, low, high in (("min_values", 0, 25), ("max_values", 1, 25)):
            value = item.get(key)
            if value is not None and not low <= value <= high:
                errors.add(
                    (*path, key),
                    "NUMBER_TYPE_MAX" if value > high else "NUMBER_TYPE_MIN",
                    f"int value should be between {low} and {high}.",
                )
        if kind == 3:
            options = item.get("options") or []
            errors.bad_length((*path, "options"), options, 1, SELECT_OPTIONS_MAX)
            for k, option in enumerate(options):
                opath: Path = (*path, "options", k)
                errors.bad_length((*opath, "label"), option.get("label"), 1, SELECT_OPTION_TEXT_MAX)
                errors.bad_length((*opath, "value"), option.get("value"), 1, SELECT_OPTION_TEXT_MAX)
                errors.max_length(
                    (*opath, "description"), option.get("description"), SELECT_OPTION_TEXT_MAX
                )


def check_autocomplete(data: JSON, errors: FormErrors) -> None:
    """APPLICATION_COMMAND_AUTOCOMPLETE_RESULT data (``{"choices": [...]}``)."""
    choices = data.get("choices")
    if choices is None:
        errors.required(("choices",))
        return
    _check_choices(choices, errors, ("choices",))


def _check_choices(choices: list[JSON], errors: FormErrors, path: Path) -> None:
    errors.max_length(path, choices, CHOICES_MAX)
    for i, choice in enumerate(choices):
        errors.bad_length((*path, i, "name"), choice.get("name"), 1, CHOICE_NAME_MAX)
        value = choice.get("value")
        if isinstance(value, str):
            errors.max_length((*path, i, "value"), value, CHOICE_STRING_VALUE_MAX)
        elif value is None:
            errors.required((*path, i, "value"))


def check_modal(data: JSON, errors: FormErrors) -> None:
    """MODAL callback data."""
    errors.bad_length(("custom_id",), data.get("custom_id"), 1, CUSTOM_ID_MAX)
    errors.bad_length(("title",), data.get("title"), 1, MODAL_TITLE_MAX)
    components = data.get("components") or []
    errors.bad_length(("components",), components, 1, ACTION_ROWS_MAX)
    for i, top in enumerate(components):
        inputs: list[tuple[Path, JSON]] = []
        if top.get("type") == 1:
            for j, item in enumerate(top.get("components") or []):
                inputs.append((("components", i, "components", j), item))
                errors.max_length(
                    ("components", i, "components", j, "label"),
                    item.get("label"),
                    TEXT_INPUT_LABEL_MAX,
                )
        elif top.get("type") == LABEL:
            errors.bad_length(("components", i, "label"), top.get("label"), 1, TEXT_INPUT_LABEL_MAX)
            errors.max_length(("components", i, "description"), top.get("description"), 100)
            if isinstance(top.get("component"), dict):
                inputs.append((("components", i, "component"), top["component"]))
            else:
                errors.required(("components", i, "component"))
        for path, item in inputs:
            if item.get("type") != TEXT_INPUT:
                continue
            errors.bad_length((*path, "custom_id"), item.get("custom_id"), 1, CUSTOM_ID_MAX)
            errors.max_length((*path, "placeholder"), item.get("placeholder"), 100)
            errors.max_length((*path, "value"), item.get("value"), TEXT_INPUT_VALUE_MAX)


def check_command(command: JSON, errors: FormErrors, path: Path = ()) -> None:
    """An application command create/overwrite body."""
    name = command.get("name") or ""
    kind = command.get("type") or 1
    if not COMMAND_NAME_RE.match(name) or (kind == 1 and name != name.lower()):
        errors.add(
            (*path, "name"),
            "APPLICATION_COMMAND_INVALID_NAME",
            "Command name is invalid",
        )
    if kind == 1:
        errors.bad_length(
            (*path, "description"), command.get("description"), 1, COMMAND_DESCRIPTION_MAX
        )
    _check_options(command.get("options") or [], errors, (*path, "options"))


def _check_options(options: list[JSON], errors: FormErrors, path: Path) -> None:
    errors.max_length(path, options, COMMAND_OPTIONS_MAX)
    names: set[str] = set()
    seen_optional = False
    for i, option in enumerate(options):
        opath: Path = (*path, i)
        name = option.get("name") or ""
        if not COMMAND_NAME_RE.match(name) or name != name.lower():
            errors.add(
                (*opath, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
            )
        if name in names:
            errors.add(
                (*opath, "name"),
                "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
        names.add(name)
        errors.bad_length(
            (*opath, "description"), option.get("description"), 1, COMMAND_DESCRIPTION_MAX
        )
        if option.get("type") in (1, 2):
            _check_options(option.get("options") or [], errors, (*opath, "options"))
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    (*opath, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if option.get("choices"):
            _check_choices(option["choices"], errors, (*opath, "choices"))

"""A button's custom_id, declared once: the regex its DynamicItem matches and the string it
is built from both come from one pattern, so the two cannot drift apart."""

from __future__ import annotations

import re
from dataclasses import dataclass

SNOWFLAKE = r"\d{1,20}"  # a Discord id: a member, a server
SLUG = r"[a-z0-9-]{1,40}"  # an exercise's or a routine's id
PAGER = r"[pn]"  # the direction of a Prev / Next button

_TOKEN = re.compile(r"(\[|\]|\{\w+\})")


@dataclass(frozen=True)
class _Part:
    """A run of the pattern: literal text and fields, all optional or all required."""

    optional: bool
    pieces: tuple[tuple[bool, str], ...]  # (is a field, its name or the literal text)


class CustomId:
    """`CustomId("stride:undo:{user_id}", user_id=SNOWFLAKE)`: each `{name}` is a part of the
    button's state, matched by the regex given for it; text in `[...]` is optional, written
    only when all its fields are set (not None, empty or 0) and matched as an optional group.

    `regex` is the button's DynamicItem `template`; `format(**state)` is its custom_id.
    """

    def __init__(self, pattern: str, **fields: str) -> None:
        self.pattern = pattern
        self.fields = fields
        self._parts: list[_Part] = []
        optional = False
        pieces: list[tuple[bool, str]] = []
        named: list[str] = []
        for token in filter(None, _TOKEN.split(pattern)):
            if token in ("[", "]"):
                if (token == "[") == optional:  # "[" inside [ ], or "]" outside
                    raise ValueError(f"unbalanced [ ] in {pattern!r}")
                self._parts.append(_Part(optional, tuple(pieces)))
                optional, pieces = token == "[", []
            elif token.startswith("{"):
                pieces.append((True, token[1:-1]))
                named.append(token[1:-1])
            elif "{" in token or "}" in token:
                raise ValueError(f"stray brace in {pattern!r}")
            else:
                pieces.append((False, token))
        if optional:
            raise ValueError(f"unbalanced [ ] in {pattern!r}")
        self._parts.append(_Part(optional, tuple(pieces)))
        if sorted(named) != sorted(fields):
            raise ValueError(f"{pattern!r} must name each of {sorted(fields)} once")
        self.regex = "".join(self._regex(part) for part in self._parts if part.pieces)

    def _regex(self, part: _Part) -> str:
        body = "".join(
            f"(?P<{text}>{self.fields[text]})" if is_field else re.escape(text)
            for is_field, text in part.pieces
        )
        return f"(?:{body})?" if part.optional else body

    def format(self, **state: object) -> str:
        """The custom_id for this state. Every field is given; an optional part is left out
        when one of its fields is unset (None, empty or 0)."""
        if set(state) != set(self.fields):
            raise TypeError(f"{self.pattern!r} takes {sorted(self.fields)}, not {sorted(state)}")
        return "".join(
            "".join(f"{state[text]}" if is_field else text for is_field, text in part.pieces)
            for part in self._parts
            if not part.optional or all(state[text] for is_field, text in part.pieces if is_field)
        )

    def __repr__(self) -> str:
        return f"CustomId({self.pattern!r})"

"""What the emulator remembers about the bot's traffic, for tests to assert on."""

from __future__ import annotations

import asyncio
import time as _time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RequestRecord:
    """One REST request the bot made.

    ``time`` is ``time.perf_counter()`` and ``wall_time`` the emulator's unix time
    (``emu.clock.time()``, which ``emu.advance`` moves) at arrival;
    ``answered_at`` is ``perf_counter()`` when the answer left (after any
    ``slow_responses`` delay).  ``route`` is the matched template, e.g.
    ``"POST /channels/{channel_id}/messages"`` (None for unknown routes).
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float
    headers: dict[str, str]
    files: list[UploadedFile] = field(default_factory=list)
    status: int | None = None
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    route: str | None = None
    wall_time: float = field(default_factory=_time.time)
    answered_at: float | None = None

    @property
    def rate_limit_scope(self) -> str | None:
        """``"global"``, ``"user"`` or ``"shared"`` for a 429, else None."""
        return self.response_headers.get("X-RateLimit-Scope") if self.status == 429 else None


@dataclass
class LimitViolation:
    """A Discord limit the bot broke (the request was answered with 400 50035)."""

    method: str
    path: str
    field: str
    code: str
    message: str


@dataclass
class MessageRecord:
    """A message the emulator stores, plus every raw payload that shaped it."""

    message: JSON
    channel_id: int
    guild_id: int | None
    source: str  # "channel", "interaction", "followup", "user"
    ephemeral: bool = False
    deleted: bool = False
    interaction_id: int | None = None
    payloads: list[JSON] = field(default_factory=list)
    files: list[UploadedFile] = field(default_factory=list)
    #: ``time.perf_counter()`` / the emulator's unix time (``emu.clock.time()``) when the
    #: emulator created the message.
    created_at: float = field(default_factory=_time.perf_counter)
    created_wall: float = field(default_factory=_time.time)

    @property
    def id(self) -> int:
        return int(self.message["id"])

    @property
    def allowed_mentions(self) -> JSON | None:
        """``allowed_mentions`` of the payload that created the message (None if absent)."""
        return self.payloads[0].get("allowed_mentions") if self.payloads else None


class InteractionRecord:
    """An interaction the emulator dispatched and everything the bot did with it."""

    def __init__(self, interaction_id: int, token: str, payload: JSON) -> None:
        self.id = interaction_id
        self.token = token
        self.payload = payload
        self.type: int = payload["type"]
        self.sent_at: float | None = None  # perf_counter() right before the dispatch
        self.response: JSON | None = None  # first accepted callback body
        self.response_at: float | None = None
        self.rejected: list[tuple[int, JSON]] = []  # (status, error body) of refused callbacks
        self.late_by: float | None = None  # seconds after dispatch of a too-late first answer
        self.original: MessageRecord | None = None  # message @original refers to
        self.original_loading = False  # deferred, not yet edited
        self.followup_records: list[MessageRecord] = []
        self.deleted_original = False
        self.source_message_id: int | None = None  # message a component was used on
        #: Discord makes every answer ephemeral: a member's own install of the app, used in
        #: a server that did not add it and blocks external apps.
        self.force_ephemeral = False
        self._responded = asyncio.Event()
        self._message_ready = asyncio.Event()
        self._followup_added = asyncio.Event()

    def __repr__(self) -> str:
        name = self.name or self.custom_id
        return (
            f"<InteractionRecord id={self.id} type={self.type} {name!r} response={self.response}>"
        )

    # -- what was dispatched ------------------------------------------------
    @property
    def data(self) -> JSON:
        return self.payload.get("data") or {}

    @property
    def name(self) -> str | None:
        return self.data.get("name")

    @property
    def custom_id(self) -> str | None:
        return self.data.get("custom_id")

    # -- what the bot answered ------------------------------------------------
    @property
    def response_time(self) -> float | None:
        """Seconds from dispatch to the callback request arriving at the emulator."""
        if self.response_at is None or self.sent_at is None:
            return None
        return self.response_at - self.sent_at

    @property
    def response_type(self) -> int | None:
        return None if self.response is None else self.response.get("type")

    @property
    def message(self) -> JSON | None:
        """Latest state of the response message (None while deferred or never sent)."""
        if self.original is None or self.original_loading or self.original.deleted:
            return None
        return self.original.message

    @property
    def followups(self) -> list[JSON]:
        return [r.message for r in self.followup_records if not r.deleted]

    @property
    def ephemeral(self) -> bool:
        if self.original is not None:
            return self.original.ephemeral
        flags = ((self.response or {}).get("data") or {}).get("flags") or 0
        return bool(flags & 64)

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    @property
    def choices(self) -> list[JSON] | None:
        """Autocomplete choices (type 8 callback)."""
        if self.response_type != 8:
            return None
        return (self.response or {}).get("data", {}).get("choices")

    @property
    def modal(self) -> JSON | None:
        """Modal definition (type 9 callback)."""
        return (self.response or {}).get("data") if self.response_type == 9 else None

    async def wait_response(self, timeout: float = 5.0) -> JSON:
        """Wait for the first accepted callback; return its body (``{"type", "data"}``)."""
        try:
            await asyncio.wait_for(self._responded.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no interaction response to {self!r} within {timeout}s "
                f"(refused callbacks: {self.rejected})"
            ) from None
        assert self.response is not None
        return self.response

    async def wait_message(self, timeout: float = 5.0) -> JSON:
        """Wait for the bot's response message and return its latest state.

        Type 4/7 callbacks count at once; after a defer (5/6) the first edit of
        ``@original`` (or, for 5, the first followup, which replaces the loading
        message) does.
        """
        try:
            await asyncio.wait_for(self._message_ready.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"no response message for {self!r} within {timeout}s") from None
        assert self.original is not None
        return self.original.message

    async def wait_followup(self, count: int = 1, timeout: float = 5.0) -> JSON:
        """Wait until ``count`` followups exist and return the ``count``-th one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.followup_records) < count:
            self._followup_added.clear()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"only {len(self.followup_records)} followups for {self!r}")
            try:
                await asyncio.wait_for(self._followup_added.wait(), remaining)
            except TimeoutError:
                continue
        return self.followup_records[count - 1].message

    # -- used by the emulator -------------------------------------------------
    def _set_response(self, body: JSON, at: float) -> None:
        self.response = body
        self.response_at = at
        self._responded.set()

    def _message_changed(self) -> None:
        if self.original is not None and not self.original_loading:
            self._message_ready.set()

    def _add_followup(self, record: MessageRecord) -> None:
        self.followup_records.append(record)
        self._followup_added.set()

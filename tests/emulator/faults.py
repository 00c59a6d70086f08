"""Fault switches for message sends: error answers shaped like Discord's.

``emu.fail_channel(channel, status, code=None, message=None, times=None)`` makes
``POST /channels/{id}/messages`` to that channel answer with ``status``; the body is
what Discord (or its edge) sends for it:

* 4xx: ``{"message", "code"}`` JSON - 403 defaults to 50001 Missing Access, 404 to
  10003 Unknown Channel; known codes get Discord's message (50013 Missing
  Permissions, 50007 Cannot send messages to this user, ...).
* 500: ``{"message": "500: Internal Server Error", "code": 0}`` JSON.
* 502 / 504 / 520-524: the Cloudflare HTML page (``text/html``).
* 503: Envoy's ``text/plain`` "upstream connect error ..." line.
* 429: a ``shared``-scope rate limit (``retry_after`` 1 s, ``global`` false), the kind
  that does not count towards the invalid-request limit.

Passing ``code`` or ``message`` always gives a JSON body.

``emu.fail_interactions(status, code=None, message=None, times=None, guild=None)`` does
the same for the bot's answers to interactions (``POST /interactions/{id}/{token}/callback``),
optionally only for interactions from one guild; the interaction stays unanswered.

``emu.hang_after_create(channel, times=1)`` creates the message but never answers (a
:class:`HangFault`): the client times out not knowing whether its send happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from .rest import ApiError

#: Discord's messages for the error codes a send can end with.
CODE_MESSAGES = {
    0: None,  # "<status>: <reason>"
    10003: "Unknown Channel",
    10008: "Unknown Message",
    10013: "Unknown User",
    10062: "Unknown interaction",
    40060: "Interaction has already been acknowledged.",
    40005: "Request entity too large",
    50001: "Missing Access",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50008: "Cannot send messages in a non-text channel",
    50013: "Missing Permissions",
    50035: "Invalid Form Body",
    20016: "This action cannot be performed due to slowmode rate limit.",
    20028: "The write action you are performing on the channel has hit the write rate limit.",
}
DEFAULT_CODES = {403: 50001, 404: 10003}
EDGE_HTML_STATUSES = {502, 504, 520, 521, 522, 523, 524}
CLOUDFLARE_REASONS = {
    520: "Web server is returning an unknown error",
    521: "Web server is down",
    522: "Connection timed out",
    523: "Origin is unreachable",
    524: "A timeout occurred",
}

CLOUDFLARE_HTML = """<html>
<head><title>{status} {reason}</title></head>
<body>
<center><h1>{status} {reason}</h1></center>
<hr><center>cloudflare</center>
</body>
</html>
"""
ENVOY_503 = (
    "upstream connect error or disconnect/reset before headers. "
    "reset reason: connection termination"
)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return CLOUDFLARE_REASONS.get(status, "Error")


def error_for(status: int, code: int | None = None, message: str | None = None) -> ApiError:
    """The :class:`ApiError` Discord would answer ``status`` (and ``code``) with."""
    reason = _reason(status)
    if code is None and message is None:
        if status in EDGE_HTML_STATUSES:
            html = CLOUDFLARE_HTML.format(status=status, reason=reason)
            return ApiError(status, 0, reason, text=html, content_type="text/html")
        if status == 503:
            return ApiError(status, 0, reason, text=ENVOY_503, content_type="text/plain")
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": 1.0, "global": False}
            headers = {"Retry-After": "1", "X-RateLimit-Scope": "shared"}
            return ApiError(429, 0, body["message"], headers=headers, body=body)
    if code is None:
        code = DEFAULT_CODES.get(status, 0)
    if message is None:
        message = CODE_MESSAGES.get(code) or f"{status}: {reason}"
    return ApiError(status, code, message)


@dataclass
class ChannelFault:
    """An active ``fail_channel`` switch; ``hits`` counts the requests it answered."""

    channel_id: int
    status: int
    code: int | None = None
    message: str | None = None
    times: int | None = None  # None: until cleared
    after_create: bool = False  # the message IS created, only the answer is an error
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def fire(self) -> ApiError:
        self.hits += 1
        return error_for(self.status, self.code, self.message)


@dataclass
class HangFault:
    """An active ``hang_after_create`` switch; ``hits`` counts the answers it withheld."""

    channel_id: int
    times: int | None = 1  # None: until cleared
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class InteractionFault:
    """An active ``fail_interactions`` switch; ``hits`` counts the callbacks it answered."""

    status: int
    code: int | None = None
    message: str | None = None
    times: int | None = None  # None: until cleared
    guild_id: int | None = None  # None: interactions from anywhere
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def fire(self) -> ApiError:
        self.hits += 1
        return error_for(self.status, self.code, self.message)

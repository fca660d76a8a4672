"""Validation of every incoming conference message, by the sender's role (docs/conference-protocol.md).

A message that is not JSON, too large, of an unknown type, not allowed for the sender's
role, or whose fields have the wrong shape raises :class:`Rejected`. The reason names the
rule, never the content: the socket logs it and drops the message, so nothing a
participant typed ever reaches the server log.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

from readingroom.widgets.view_state import view_schema

MAX_MESSAGE_BYTES = 16 * 1024
MAX_TEXT = 500  # a question, a poll prompt
MAX_OPTIONS = 10
MAX_OPTION_TEXT = 200
MAX_ID = 64
MAX_KEY = 40

PARTICIPANT_RATE = 10.0  # messages a second on average; pings, answers and questions need far fewer
PARTICIPANT_BURST = 30

PRESENTER, PARTICIPANT = "presenter", "participant"


class Rejected(ValueError):
    """A message that is dropped; the text says which rule it broke (no content)."""


def parse(raw: str | bytes, role: str) -> dict:
    """The message as a dict of checked fields, or :class:`Rejected`."""
    if len(raw) > MAX_MESSAGE_BYTES or (isinstance(raw, str) and len(raw.encode()) > MAX_MESSAGE_BYTES):
        raise Rejected(f"larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Rejected("not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Rejected("not an object with a type")
    kind = message["type"]
    checks = _PRESENTER if role == PRESENTER else _PARTICIPANT
    if kind not in checks:
        other = _PARTICIPANT if role == PRESENTER else _PRESENTER
        raise Rejected(f"{kind!r} is not allowed for a {role}" if kind in other else "unknown type")
    fields = checks[kind]
    extra = set(message) - {"type"} - set(fields)
    if extra:
        raise Rejected(f"{kind!r} has unexpected fields")
    checked = {"type": kind}
    for name, check in fields.items():
        try:
            checked[name] = check(message.get(name))
        except (TypeError, ValueError) as error:
            raise Rejected(f"{kind!r} field {name!r}: {error}") from None
    return checked


class Allowance:
    """A token bucket: ``rate`` messages a second on average, ``burst`` at once.

    Each participant message may reach everyone (a question) or the records store (an
    answer), so one socket must not be able to flood either.
    """

    def __init__(self, rate: float = PARTICIPANT_RATE, burst: int = PARTICIPANT_BURST,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._tokens, self._stamp = float(burst), clock()

    def take(self) -> bool:
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


# Field checks: each returns the checked value or raises ValueError saying what is expected.


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ValueError("expected a whole number >= 0")
    return value


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _text(limit: int) -> Callable[[object], str]:
    def check(value) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise ValueError(f"expected text of 1-{limit} characters")
        return value.strip()

    return check


def _one_of(*allowed: str) -> Callable[[object], str]:
    def check(value) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value

    return check


def _optional(check: Callable) -> Callable:
    return lambda value: None if value is None else check(value)


def _pair(value) -> list[float]:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("expected two numbers")
    return [_number(v) for v in value]


def _list_of(check: Callable, limit: int) -> Callable[[object], list]:
    def checked(value) -> list:
        if not isinstance(value, list) or len(value) > limit:
            raise ValueError(f"expected a list of at most {limit}")
        return [check(v) for v in value]

    return checked


def _annotation(value) -> dict:
    # The viewer validates annotations fully; here only their shape, so a follower cannot be broken.
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise ValueError("an annotation is an object with a kind")
    return value


def _check_for(schema: dict) -> Callable:
    """The field check for one property of the viewer's JSON Schema (readingroom.widgets.view_state)."""
    kinds = schema.get("type")
    nullable = isinstance(kinds, list) and "null" in kinds
    kind = next((k for k in kinds if k != "null"), None) if isinstance(kinds, list) else kinds
    if "enum" in schema:
        check = _one_of(*schema["enum"])
    elif kind == "boolean":
        check = _flag
    elif kind == "integer":
        check = _count
    elif kind == "number":
        check = _positive if "exclusiveMinimum" in schema else _number
    elif kind == "array" and schema.get("minItems") == schema.get("maxItems") == 2:
        check = _pair
    elif kind == "array" and "maxItems" in schema:  # every list a follower receives is bounded
        items = schema.get("items", {})
        each = _annotation if items.get("type") == "object" else _text(items.get("maxLength", MAX_ID))
        check = _list_of(each, schema["maxItems"])
    else:
        raise TypeError(f"viewer state: no message check for schema {schema}")
    return _optional(check) if nullable else check


def _positive(value) -> float:
    if not _number(value) > 0:
        raise ValueError("expected a number > 0")
    return value


# The presenter's snapshot: the conference's own fields, and every viewer field declared as shared.
_VIEWER = view_schema()
VIEW_FIELDS: dict[str, Callable] = {
    "case": _text(MAX_ID), "stage": _count,
    **{name: _check_for(_VIEWER["properties"][name]) for name in _VIEWER["x-view"]},
}
VIEW_REQUIRED = ("case", "series", "frame")


def _view(value) -> dict:
    """The presenter's snapshot: ``case``, ``series`` and ``frame`` required, the other viewer fields optional."""
    if not isinstance(value, dict):
        raise ValueError("expected an object")
    if set(value) - set(VIEW_FIELDS):
        raise ValueError("unexpected view fields")
    missing = [name for name in VIEW_REQUIRED if name not in value]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    checked = {}
    for name, v in value.items():
        try:
            checked[name] = VIEW_FIELDS[name](v)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    return checked


def _poll(value) -> dict:
    if not isinstance(value, dict) or set(value) - {"id", "kind", "prompt", "options"}:
        raise ValueError("expected {id, kind, prompt, options?}")
    kind = value.get("kind")
    if kind not in ("choice", "locate"):
        raise ValueError("kind must be 'choice' or 'locate'")
    poll = {"id": _text(MAX_ID)(value.get("id")), "kind": kind, "prompt": _text(MAX_TEXT)(value.get("prompt"))}
    if kind == "choice":
        options = _list_of(_text(MAX_OPTION_TEXT), MAX_OPTIONS)(value.get("options"))
        if len(options) < 2:
            raise ValueError("a choice poll needs 2 or more options")
        poll["options"] = options
    elif "options" in value:
        raise ValueError("a locate poll has no options")
    return poll


def _key(value) -> str:
    """A client's idempotency key: the same answer re-sent after a lost acknowledgement is stored once."""
    if not isinstance(value, str) or not 8 <= len(value) <= MAX_KEY or not value.isascii() or not value.isalnum():
        raise ValueError(f"expected 8-{MAX_KEY} letters and digits")
    return value


def _answer(value) -> int | dict:
    """An option index, or ``{"x", "y", "frame"}`` (image pixels) for a locate poll."""
    if isinstance(value, dict):
        if set(value) != {"x", "y", "frame"}:
            raise ValueError("a located answer is {x, y, frame}")
        return {"x": _number(value["x"]), "y": _number(value["y"]), "frame": _count(value["frame"])}
    return _count(value)


MAX_SDP = 12 * 1024  # an audio-only offer with its candidates is 2-5 KB


def _sdp(value) -> str:
    """A browser's SDP offer for voice (Janus parses it; here only its size and shape)."""
    if not isinstance(value, str) or not value.startswith("v=0") or len(value) > MAX_SDP:
        raise ValueError(f"expected an SDP offer of at most {MAX_SDP} characters")
    return value


# Voice (readingroom.server.conference.voice): the same offer from either side; who speaks, only the presenter says.
_VOICE_OFFER = {"voice_offer": {"sdp": _sdp}, "voice_stop": {}}

_PRESENTER: dict[str, dict[str, Callable]] = {
    "view": {"view": _view, "t": _optional(_number)},
    "poll_open": {"poll": _poll},
    "poll_close": {"poll": _text(MAX_ID)},
    "answered": {"question": _count},
    "end": {},
    "ping": {"t": _optional(_number)},
    **_VOICE_OFFER,
    "mic": {"value": _flag},
    "mute_all": {},
    "floor": {"participant": _count, "value": _flag},
}
_PARTICIPANT: dict[str, dict[str, Callable]] = {
    "answer": {"poll": _text(MAX_ID), "answer": _answer, "key": _optional(_key)},
    "ask": {"text": _text(MAX_TEXT)},
    "upvote": {"question": _count},
    "following": {"value": _flag},
    "ping": {"t": _optional(_number)},
    **_VOICE_OFFER,
    "hand": {"value": _flag},
}
VOICE_TYPES = frozenset({*_VOICE_OFFER, "mic", "mute_all", "floor", "hand"})

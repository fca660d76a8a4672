"""``POST /readingroom/conference/join``: a join code and a name in, a ticket out.

Codes are short so people can type them; what keeps them from being guessed is the
limit on *wrong* codes per address. Right codes are never limited: a whole rural
hospital may sit behind one address.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections import OrderedDict, deque

from sqlalchemy.exc import DBAPIError
from tornado import web

from readingroom.server.conference.socket import SAVING, Hubs
from readingroom.server.identity import current_user

MAX_BODY = 4096
MAX_NAME = 80
MAX_LICENCE = 40
WRONG_CODES_ALLOWED = 10
WRONG_CODES_WINDOW = 600.0  # seconds
TRACKED_ADDRESSES = 10_000  # the limiter's memory stays bounded under a flood of addresses
JOIN_RETRY_SECONDS = 3  # while the records store is unreachable, the join page tries again this often


class CodeAttempts:
    """Wrong join codes per address in a sliding window."""

    def __init__(self, allowed: int = WRONG_CODES_ALLOWED, window: float = WRONG_CODES_WINDOW) -> None:
        self.allowed, self.window = allowed, window
        self._wrong: OrderedDict[str, deque[float]] = OrderedDict()

    def blocked(self, address: str) -> bool:
        recent = self._recent(address)
        return recent is not None and len(recent) >= self.allowed

    def wrong(self, address: str) -> None:
        recent = self._recent(address)
        if recent is None:
            recent = self._wrong[address] = deque()
            if len(self._wrong) > TRACKED_ADDRESSES:
                self._wrong.popitem(last=False)
        recent.append(time.monotonic())
        self._wrong.move_to_end(address)

    def _recent(self, address: str) -> deque[float] | None:
        recent = self._wrong.get(address)
        if recent is not None:
            while recent and recent[0] < time.monotonic() - self.window:
                recent.popleft()
        return recent


class JoinHandler(web.RequestHandler):
    """JSON in (``code``, ``name``, ``licence``?), JSON out; errors are ``{"error": one line}``."""

    def initialize(self, hubs: Hubs, attempts: CodeAttempts, base: str) -> None:
        self.hubs, self.attempts, self.base = hubs, attempts, base

    async def post(self) -> None:
        self.check_xsrf_cookie()  # Voila does not turn tornado's xsrf_cookies on, so ask for it here
        address = self.request.remote_ip or ""
        if self.attempts.blocked(address):
            raise web.HTTPError(429, "Too many wrong codes from this address; wait ten minutes and check the code.")
        fields = _fields(self.request.body)
        conference = self.hubs.conferences.by_code(_text(fields, "code", 16, "the join code"))
        if conference is None:
            self.attempts.wrong(address)
            raise web.HTTPError(404, "No live conference has this code; check it with the presenter.")
        records = self.hubs.records
        try:
            participant = await self.hubs.call(current_user, self, records)
            if participant is None:
                name = _text(fields, "name", MAX_NAME, "your name")
                licence = _text(fields, "licence", MAX_LICENCE, "the licence or board ID", required=False) or None
                participant = await self.hubs.call(lambda: records.add_participant(name, licence_id=licence))
        except DBAPIError:  # the store is down: the page says so and tries again by itself
            self.set_header("Retry-After", str(JOIN_RETRY_SECONDS))
            raise web.HTTPError(503, f"The records store cannot take your join right now: {SAVING}.") from None
        conference.names[participant.id] = participant.display_name
        path = f"{self.base}readingroom/conference/{conference.id}"
        ticket = conference.ticket(participant.id)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({
            "session": conference.id, "participant": participant.id, "ticket": ticket,
            "follow_url": f"{path}/follow?ticket={ticket}", "ws_url": f"{path}/ws?ticket={ticket}",
        }))

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": getattr(error, "log_message", None) or self._reason}))


def _fields(body: bytes) -> dict:
    if len(body) > MAX_BODY:
        raise web.HTTPError(400, f"The request is larger than {MAX_BODY} bytes.")
    try:
        fields = json.loads(body)
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise web.HTTPError(400, 'Send JSON: {"code": "...", "name": "...", "licence": "..."}.')
    return fields


def _text(fields: dict, key: str, limit: int, what: str, required: bool = True) -> str:
    value = fields.get(key)
    value = value.strip() if isinstance(value, str) else ""
    if (required and not value) or len(value) > limit or any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise web.HTTPError(400, f"Give {what}: {'1' if required else '0'}-{limit} characters, no control characters.")
    return value

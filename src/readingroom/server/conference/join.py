"""``POST /readingroom/conference/join``: a join code and a name in, a ticket out.

Codes are short so people can type them; what keeps them from being guessed is their
number (32^6, about a billion, against a few live conferences). Wrong codes are counted
per address and logged (never the code), so guessing shows in the log, and beyond a
budget fit for a hospital's NAT they are refused. A right code is never refused: a whole
rural hospital may sit behind one address, and one person's typos must not lock it out.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from tornado import web

from readingroom.server.conference.rooms import RoomsUnavailable
from readingroom.server.conference.socket import SAVING, Hubs
from readingroom.server.forwarded import SecureBehindProxy, client_address
from readingroom.server.identity import current_user
from readingroom.server.rate_limit import FailureLimiter

MAX_BODY = 4096
MAX_NAME = 80
MAX_LICENCE = 40
# A budget for a hospital's NAT, where a room of people typing from paper shares one address:
# far above its typos, far below what guessing a code (32^6 of them) needs.
WRONG_CODES_ALLOWED = 100
WRONG_CODES_WINDOW = 600.0  # seconds
JOIN_RETRY_SECONDS = 3  # while the records store is unreachable, the join page tries again this often
log = logging.getLogger("readingroom.join")


def wrong_code_limiter(limiter: Callable[[str, int, float], FailureLimiter]) -> FailureLimiter:
    """The join API's limit, from ``limiter`` (:meth:`readingroom.server.shared.Shared.limiter`)."""
    return limiter("wrong-codes", WRONG_CODES_ALLOWED, WRONG_CODES_WINDOW)


class JoinHandler(SecureBehindProxy):
    """JSON in (``code``, ``name``, ``licence``?), JSON out; errors are ``{"error": one line}``.

    A right code always gets in, even from an address over its budget of wrong ones.
    """

    def initialize(self, hubs: Hubs, wrong_codes: FailureLimiter, base: str) -> None:
        self.hubs, self.wrong_codes, self.base = hubs, wrong_codes, base

    async def post(self) -> None:
        self.check_xsrf_cookie()  # Voila does not turn tornado's xsrf_cookies on, so ask for it here
        fields = _fields(self.request.body)
        try:
            conference = await self.hubs.conferences.find_code(_text(fields, "code", 16, "the join code"))
        except RoomsUnavailable:
            self.set_header("Retry-After", str(JOIN_RETRY_SECONDS))
            raise web.HTTPError(503, "The conference cannot take your join right now; try again in a moment.") from None
        if conference is None:
            await self._wrong_code(client_address(self))
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

    async def _wrong_code(self, address: str) -> None:
        """Count it and log it (never the code itself), then refuse: 404, or 429 beyond the budget."""
        if await self.wrong_codes.blocked(address):
            raise web.HTTPError(429, "Too many wrong codes from your network; wait ten minutes, then check the "
                                     "code with the presenter (the right code still works).")
        count = await self.wrong_codes.failed(address)
        spent = count == WRONG_CODES_ALLOWED
        log.log(logging.WARNING if spent else logging.INFO, "readingroom: wrong join code from %s (%d in the last "
                "%d minutes%s)", address, count, WRONG_CODES_WINDOW // 60, "; further ones are refused" if spent else "")
        raise web.HTTPError(404, "No live conference has this code; check it with the presenter.")

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

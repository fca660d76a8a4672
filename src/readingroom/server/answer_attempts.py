"""Attempts at a case page's questions, counted on the server for each reader.

A case page has no kernel to keep count, and a count the page sends could be reset to zero
to try every option. Each reader is the signed-in account, or else a random id in a signed
cookie the case page sets (``rr_reader``); an answer without either is refused, so clearing
cookies only starts over as a new reader would. Counts live in this process, a bounded
number of them (the least recently used go first), or with ``--redis`` in Redis (every
process behind one address counts the same attempts): a reader is kept for a day at most.
"""

from __future__ import annotations

import json
import secrets
from collections import OrderedDict

from tornado import web

from readingroom.records import RecordsStore
from readingroom.server.identity import current_user

READER_COOKIE = "rr_reader"
READER_DAYS = 1
TRACKED = 100_000  # about 10 MB at most


def give_reader_cookie(handler: web.RequestHandler) -> None:
    """On opening a case page: a reader id unless the visitor has one already."""
    if handler.get_signed_cookie(READER_COOKIE, max_age_days=READER_DAYS) is None:
        handler.set_signed_cookie(READER_COOKIE, secrets.token_urlsafe(16), expires_days=READER_DAYS,
                                  httponly=True, samesite="Lax")


def reader_of(handler: web.RequestHandler, records: RecordsStore) -> str | None:
    """Who is answering: ``user:<id>`` when signed in, else ``reader:<cookie>``, or None."""
    user = current_user(handler, records)
    if user is not None:
        return f"user:{user.id}"
    reader = handler.get_signed_cookie(READER_COOKIE, max_age_days=READER_DAYS)
    return f"reader:{reader.decode()}" if reader else None


class AnswerAttempts:
    """Attempts used per (reader, case version, question), in this process."""

    def __init__(self, tracked: int = TRACKED) -> None:
        self.tracked = tracked
        self._used: OrderedDict[tuple[str, str, str, str], int] = OrderedDict()

    async def take(self, reader: str, case_id: str, version: str, question: str, allowed: int) -> int | None:
        """One more attempt unless ``allowed`` (0: no limit) are used already; how many are used now, or None."""
        key = (reader, case_id, version, question)
        used = self._used.get(key, 0)
        if allowed and used >= allowed:
            return None
        self._used[key] = used + 1
        self._used.move_to_end(key)
        if len(self._used) > self.tracked:
            self._used.popitem(last=False)
        return used + 1


# KEYS: the count; ARGV: allowed (0: no limit), seconds kept. -1 when none are left; two processes racing take one each.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > 0 and used >= tonumber(ARGV[1]) then return -1 end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return used
"""


class RedisAnswerAttempts:
    """:class:`AnswerAttempts` counted in Redis (one key per reader and question, kept a day)."""

    def __init__(self, client) -> None:  # a redis.asyncio.Redis
        self._take = client.register_script(_TAKE)

    async def take(self, reader: str, case_id: str, version: str, question: str, allowed: int) -> int | None:
        key = "rr:attempts:" + json.dumps([reader, case_id, version, question])
        used = await self._take(keys=[key], args=[allowed, READER_DAYS * 86400])
        return None if used < 0 else used

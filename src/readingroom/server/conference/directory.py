"""Which conferences exist beyond this process: a join code, presenter link or ticket for a session
another process started opens it here too (``--redis``).

A :class:`Listing` is what a process needs to serve a session it did not start: its join
code, a digest of the presenter token (enough to check one; the token itself stays with
whoever started it) and the secret the participants' tickets are signed with. The agenda is
not stored: every process rebuilds it from the cases folder they share (frames are encoded
deterministically). Redis therefore holds secrets: it must be private to the serving
processes (bound to a private address or protected by a password in the URL, never public).

The calls are few and small (a start, a first visit on a process), so they use the plain
(blocking) client from worker threads; rooms use the asyncio one (:mod:`.rooms_redis`).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from readingroom.server.conference.rooms import RoomsUnavailable

CODE_KEY = "rr:code:"
SESSION_KEY = "rr:session:"


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Listing:
    session_id: int
    code: str
    token_digest: bytes
    secret: bytes


class Directory:
    """One process alone: nothing is shared, every lookup misses (the default, without ``--redis``)."""

    def claim(self, code: str, session_id: int) -> bool:
        """Take ``code`` for ``session_id`` unless another live session holds it."""
        return True

    def publish(self, listing: Listing) -> None:
        """Make the session findable by every process."""

    def find(self, session_id: int) -> Listing | None:
        return None

    def session_of(self, code: str) -> int | None:
        return None

    def reopen(self, session_id: int) -> None:
        """A resumed session is live again everywhere."""

    def served_elsewhere(self, session_id: int) -> bool:
        """True while another live process serves the session (a restart must not close it then)."""
        return False


def _unavailable(method):
    """Redis unreachable becomes :class:`~.rooms.RoomsUnavailable` (a 503, and the page tries again)."""

    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        from redis.exceptions import RedisError

        try:
            return method(*args, **kwargs)
        except RedisError as error:
            raise RoomsUnavailable(f"Redis: {error}") from None

    return wrapped


class RedisDirectory(Directory):
    """The directory in Redis (``rr:code:<CODE>`` -> session id, ``rr:session:<id>`` -> its listing)."""

    def __init__(self, client) -> None:  # a redis.Redis
        self.client = client

    @_unavailable
    def claim(self, code: str, session_id: int) -> bool:
        return bool(self.client.set(CODE_KEY + code, session_id, nx=True)) or self.session_of(code) == session_id

    @_unavailable
    def publish(self, listing: Listing) -> None:
        self.client.set(CODE_KEY + listing.code, listing.session_id)
        self.client.hset(SESSION_KEY + str(listing.session_id), mapping={
            "code": listing.code, "token_sha256": listing.token_digest.hex(), "secret": listing.secret.hex()})

    @_unavailable
    def find(self, session_id: int) -> Listing | None:
        stored = self.client.hgetall(SESSION_KEY + str(session_id))
        if not stored:
            return None
        return Listing(session_id, stored[b"code"].decode(), bytes.fromhex(stored[b"token_sha256"].decode()),
                       bytes.fromhex(stored[b"secret"].decode()))

    @_unavailable
    def session_of(self, code: str) -> int | None:
        found = self.client.get(CODE_KEY + code)
        return int(found) if found else None

    @_unavailable
    def reopen(self, session_id: int) -> None:
        from readingroom.server.conference.rooms_redis import room_key

        self.client.delete(room_key(session_id, "ended"))

    @_unavailable
    def served_elsewhere(self, session_id: int) -> bool:
        from readingroom.server.conference.rooms_redis import PROCESS_PREFIX, room_key

        if self.client.exists(room_key(session_id, "ended")):
            return False
        processes = self.client.smembers(room_key(session_id, "procs"))
        return any(self.client.exists(PROCESS_PREFIX + p.decode()) for p in processes)

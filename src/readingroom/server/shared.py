"""What the serving processes behind one address share: in this process alone by default, in Redis with ``--redis``.

One place decides, so each part (conference rooms and their directory, the limits on wrong
codes and passwords, case-page answer attempts) gets the right kind without asking which.
Redis must be private to the serving processes (bound to a private address, or with a
password in the URL): it holds the rooms, the conferences' ticket secrets and the counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from readingroom.server.answer_attempts import AnswerAttempts, RedisAnswerAttempts
from readingroom.server.conference.directory import Directory
from readingroom.server.conference.rooms import LocalRooms, Rooms
from readingroom.server.rate_limit import FailureLimiter, RedisFailureLimiter


@dataclass
class Shared:
    rooms: Rooms = field(default_factory=LocalRooms)
    directory: Directory = field(default_factory=Directory)
    client: object | None = None  # a redis.asyncio.Redis when shared through Redis

    def limiter(self, name: str, allowed: int, window: float) -> FailureLimiter | RedisFailureLimiter:
        """A limit on failures of one kind (``name``: wrong-codes, signin-accounts ...)."""
        if self.client is None:
            return FailureLimiter(allowed, window)
        return RedisFailureLimiter(self.client, name, allowed, window)

    def attempts(self) -> AnswerAttempts | RedisAnswerAttempts:
        return AnswerAttempts() if self.client is None else RedisAnswerAttempts(self.client)


def shared_state(redis_url: str) -> Shared:
    """In this process without a URL; else in that Redis, which must answer now (one line naming the fix if not)."""
    if not redis_url:
        return Shared()
    from readingroom.server.conference.rooms_redis import redis_rooms

    rooms, directory = redis_rooms(redis_url)
    return Shared(rooms, directory, rooms.client)

"""The limits on failures and the case-page answer attempts counted in Redis (``--redis``): two clients on one
Redis stand for two serving processes, and see the same counts as one process would."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as aioredis

from readingroom.server.answer_attempts import AnswerAttempts, RedisAnswerAttempts
from readingroom.server.rate_limit import RedisFailureLimiter
from tests.conftest import run_async
from tests.redis_fixtures import redis_server  # noqa: F401  (a fixture)


def _two_processes(url: str, scenario):
    async def run():
        clients = [aioredis.Redis.from_url(url), aioredis.Redis.from_url(url)]
        try:
            return await scenario(*clients)
        finally:
            for client in clients:
                await client.aclose()

    return run_async(run())


def test_failures_counted_on_two_processes_add_up_and_expire(redis_server):  # noqa: F811
    name, address = f"test-{uuid.uuid4().hex[:6]}", "203.0.113.9"

    async def scenario(first, second):
        limits = [RedisFailureLimiter(client, name, allowed=3, window=60) for client in (first, second)]
        counts = [await limits[n % 2].failed(address) for n in range(3)]
        blocked = [await limit.blocked(address) for limit in limits]
        neighbour = await limits[1].blocked("203.0.113.10")
        ttl = await first.ttl(f"rr:failures:{name}:{address}")
        return counts, blocked, neighbour, ttl

    counts, blocked, neighbour, ttl = _two_processes(redis_server.url, scenario)
    assert counts == [1, 2, 3] and blocked == [True, True] and not neighbour
    assert 0 < ttl <= 60  # Redis forgets them: nothing to sweep


def test_answer_attempts_are_shared_and_never_one_too_many_when_two_processes_race(redis_server):  # noqa: F811
    reader = f"reader:{uuid.uuid4().hex}"

    async def scenario(first, second):
        attempts = [RedisAnswerAttempts(client) for client in (first, second)]
        taken = await asyncio.gather(*(attempts[n % 2].take(reader, "3f9a0c1b2d", "v1", "q1", 2) for n in range(6)))
        unlimited = [await attempts[n % 2].take(reader, "3f9a0c1b2d", "v1", "q2", 0) for n in range(3)]
        return sorted(t for t in taken if t is not None), taken.count(None), unlimited

    granted, refused, unlimited = _two_processes(redis_server.url, scenario)
    assert granted == [1, 2] and refused == 4
    assert unlimited == [1, 2, 3]


def test_answer_attempts_in_one_process_follow_the_same_rule():
    attempts, reader = AnswerAttempts(), "reader:x"
    taken = [run_async(attempts.take(reader, "c", "v", "q", 2)) for _ in range(3)]
    assert taken == [1, 2, None]

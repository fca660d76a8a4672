"""One limit on failed attempts (wrong join codes, wrong passwords), counted per key in a sliding window.

Only failures are counted, so callers decide what a key is: an address, an account. A whole
rural hospital may reach us from one address (its NAT, or our own TLS proxy), so callers
never let this refuse a *right* join code, and give addresses a budget a room full of
people typing can stay under. Addresses come from :func:`.forwarded.client_address`.

Two kinds with one (asynchronous) interface: :class:`FailureLimiter` counts in this process,
:class:`RedisFailureLimiter` in Redis, so every process behind one address counts the same
failures (``--redis``; see :mod:`.shared`).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

TRACKED_KEYS = 10_000  # the memory stays bounded under a flood of keys: the least recently failed go first


class FailureLimiter:
    """At most ``allowed`` failures per key in ``window`` seconds; ``clock`` is injectable for tests."""

    def __init__(self, allowed: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.allowed, self.window, self.clock = allowed, window, clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    async def blocked(self, key: str) -> bool:
        return self.count(key) >= self.allowed

    def count(self, key: str) -> int:
        """Failures for ``key`` within the window."""
        recent = self._recent(key)
        return len(recent) if recent is not None else 0

    async def failed(self, key: str) -> int:
        """Count one failure; returns how many ``key`` now has within the window."""
        recent = self._recent(key)
        if recent is None:
            recent = self._failures[key] = deque()
            if len(self._failures) > TRACKED_KEYS:
                self._failures.popitem(last=False)
        recent.append(self.clock())
        self._failures.move_to_end(key)
        return len(recent)

    def _recent(self, key: str) -> deque[float] | None:
        recent = self._failures.get(key)
        if recent is not None:
            oldest = self.clock() - self.window
            while recent and recent[0] < oldest:
                recent.popleft()
        return recent


class RedisFailureLimiter:
    """At most ``allowed`` failures per key in a window of ``window`` seconds from its first failure, counted in
    Redis (INCR, then EXPIRE on the first), so every process sees the same count; Redis expires keys itself."""

    def __init__(self, client, name: str, allowed: int, window: float) -> None:  # client: a redis.asyncio.Redis
        self.client, self.prefix, self.allowed, self.window = client, f"rr:failures:{name}:", allowed, window

    async def blocked(self, key: str) -> bool:
        return int(await self.client.get(self.prefix + key) or 0) >= self.allowed

    async def failed(self, key: str) -> int:
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(self.prefix + key)
        pipe.expire(self.prefix + key, int(self.window), nx=True)
        count, _ = await pipe.execute()
        return count

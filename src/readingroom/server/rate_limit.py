"""One limit on failed attempts (wrong join codes, wrong passwords), counted per key in a sliding window.

Only failures are counted, so callers decide what a key is: an address, an account. A whole
rural hospital may reach us from one address (its NAT, or our own TLS proxy), so callers
never let this refuse a *right* join code, and give addresses a budget a room full of
people typing can stay under. Addresses come from :func:`.forwarded.client_address`.
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

    def blocked(self, key: str) -> bool:
        return self.count(key) >= self.allowed

    def count(self, key: str) -> int:
        """Failures for ``key`` within the window."""
        recent = self._recent(key)
        return len(recent) if recent is not None else 0

    def failed(self, key: str) -> int:
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

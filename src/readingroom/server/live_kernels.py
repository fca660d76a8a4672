"""The live-kernel budget: how many kernels visitors of live case pages may hold, and who waits.

A case whose widgets need Python is served live by Voila, and each open page holds a kernel
(about 120 MB) until it is closed or culled: ten requests left 13 kernels and 1.16 GB. Here
a visitor (known by a cookie) holds at most one kernel, a second visit replacing the first;
beyond the cap a visitor waits in a queue, is told their place, and is offered the case
without a kernel meanwhile. :class:`KernelBudget` is the bookkeeping alone, with no I/O and
an injectable clock; the case-page handler asks it and starts or shuts kernels down.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

KERNEL_BYTES = 120 << 20  # a case kernel with pydicom, numpy and the widgets loaded
MEMORY_SHARE = 0.75  # of the memory available at start-up; the rest is the server's and the system's
FORGET_AFTER = 120  # seconds a queued visitor keeps their place without asking again
RETRY_AFTER = 10  # seconds between a queued page's checks


def default_cap(available_bytes: int | None = None) -> int:
    """Kernels that fit in ``available_bytes`` (default: the memory available now), at least one."""
    if available_bytes is None:
        import psutil

        available_bytes = psutil.virtual_memory().available
    return max(1, int(available_bytes * MEMORY_SHARE) // KERNEL_BYTES)


@dataclass(frozen=True)
class Admission:
    """May the visitor have a kernel now? If so, ``replaces`` is the one they held, to shut down first."""

    admitted: bool
    position: int = 0  # 1 for the first in the queue, when not admitted
    replaces: str | None = None


class KernelBudget:
    """At most ``cap`` kernels held by visitors of live pages, one each; a first-come queue beyond that."""

    def __init__(self, cap: int, clock: Callable[[], float] = time.monotonic) -> None:
        if cap < 1:
            raise ValueError(f"the live-kernel cap must be at least 1, got {cap}")
        self.cap, self.clock = cap, clock
        self._held: dict[str, str] = {}  # visitor -> kernel id
        self._starting: set[str] = set()  # admitted, kernel id not known yet
        self._queue: OrderedDict[str, float] = OrderedDict()  # visitor -> when last seen

    def admit(self, visitor: str, running: Collection[str]) -> Admission:
        """Admit ``visitor`` if a seat is free for them; ``running`` are the kernel ids alive now."""
        self._tidy(running)
        replaces = self._held.get(visitor)
        if replaces is not None or visitor in self._starting or self._free() > self._ahead_of(visitor):
            self._queue.pop(visitor, None)
            self._held.pop(visitor, None)
            self._starting.add(visitor)
            return Admission(True, replaces=replaces)
        return Admission(False, position=self.wait(visitor, running))

    def wait(self, visitor: str, running: Collection[str]) -> int:
        """Keep ``visitor``'s place in the queue (joining at the end); 0 when a seat is free for them now."""
        self._tidy(running)
        if visitor in self._held or visitor in self._starting or self._free() > self._ahead_of(visitor):
            return 0
        self._queue[visitor] = self.clock()  # an existing entry keeps its place
        return self._ahead_of(visitor) + 1

    def started(self, visitor: str, kernel_id: str | None) -> str | None:
        """The admitted visitor's page was sent with ``kernel_id`` (None: it failed before a kernel was known).

        Returns a kernel of theirs to shut down: one a page opened at the same moment (a double click) started.
        """
        self._starting.discard(visitor)
        if not kernel_id:
            return None
        older, self._held[visitor] = self._held.get(visitor), kernel_id
        return older

    @property
    def held(self) -> int:
        return len(self._held) + len(self._starting)

    def _free(self) -> int:
        return self.cap - self.held

    def _ahead_of(self, visitor: str) -> int:
        order = list(self._queue)
        return order.index(visitor) if visitor in self._queue else len(order)

    def _tidy(self, running: Collection[str]) -> None:
        """Seats of kernels that ended (page closed, culled) are free; silent queuers lose their place."""
        alive = set(running)
        for visitor in [v for v, kernel in self._held.items() if kernel not in alive]:
            del self._held[visitor]
        now = self.clock()
        for visitor in [v for v, seen in self._queue.items() if now - seen > FORGET_AFTER]:
            del self._queue[visitor]

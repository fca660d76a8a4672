"""Minutes present from join/leave/reconnect events: pure, so CME credit is testable alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from .values import AttendanceKind


def time_present(
    events: Iterable[tuple[AttendanceKind, datetime]], starts_at: datetime, ends_at: datetime
) -> timedelta:
    """Sum of present intervals, clipped to the session, open ones closed at ``ends_at``.

    Join or reconnect opens an interval (a second one while open changes nothing: the
    server may see a reconnect before it noticed the drop); leave closes it.
    """
    total = timedelta()
    opened: datetime | None = None
    for kind, at in sorted(events, key=lambda e: e[1]):
        if kind is AttendanceKind.LEAVE:
            if opened is not None:
                total += _clipped(opened, at, starts_at, ends_at)
                opened = None
        elif opened is None:
            opened = at
    if opened is not None:
        total += _clipped(opened, ends_at, starts_at, ends_at)
    return total


def _clipped(begin: datetime, end: datetime, starts_at: datetime, ends_at: datetime) -> timedelta:
    return max(timedelta(), min(end, ends_at) - max(begin, starts_at))

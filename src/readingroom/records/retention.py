"""Six-year retention: CME providers must keep attendance verifiable for six years."""

from __future__ import annotations

from datetime import datetime

from .errors import RecordsError
from .models import require_utc

RETENTION_YEARS = 6


def earliest_allowed_cutoff(now: datetime) -> datetime:
    """The latest cutoff a purge may use: the same instant six calendar years ago."""
    now = require_utc(now)
    try:
        return now.replace(year=now.year - RETENTION_YEARS)
    except ValueError:  # 29 February -> 28 February
        return now.replace(year=now.year - RETENTION_YEARS, day=28)


def check_cutoff(cutoff: datetime, now: datetime) -> datetime:
    """Return ``cutoff`` in UTC, or refuse one that would delete records under six years old."""
    cutoff = require_utc(cutoff)
    limit = earliest_allowed_cutoff(now)
    if cutoff > limit:
        raise RetentionError(
            f"refusing to purge before {cutoff.isoformat()}: CME records are kept "
            f"{RETENTION_YEARS} years, so the cutoff must be on or before {limit.isoformat()}"
        )
    return cutoff


class RetentionError(RecordsError):
    """A purge would delete records still inside the six-year retention period."""

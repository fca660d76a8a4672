"""The records store: attendance, answers, local accounts and certificates, never patient data.

SQLAlchemy behind one injected URL (a SQLite file by default, PostgreSQL for deployments);
callers get plain dataclasses, never ORM objects or sessions.
"""

from .retention import RETENTION_YEARS, RetentionError
from .store import NotFoundError, RecordsStore, default_url, sqlite_url
from .values import (
    AttendanceKind,
    AttendanceRow,
    Certificate,
    ConferenceSession,
    Participant,
    PollAnswer,
    PurgeCounts,
    QuestionAnswer,
)

__all__ = [
    "RETENTION_YEARS",
    "AttendanceKind",
    "AttendanceRow",
    "Certificate",
    "ConferenceSession",
    "NotFoundError",
    "Participant",
    "PollAnswer",
    "PurgeCounts",
    "QuestionAnswer",
    "RecordsStore",
    "RetentionError",
    "default_url",
    "sqlite_url",
]

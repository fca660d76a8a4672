"""The records store: attendance, answers, module progress, accounts and certificates, never patient data.

SQLAlchemy behind one injected URL (a SQLite file by default, PostgreSQL for deployments);
callers get plain dataclasses, never ORM objects or sessions.
"""

from .errors import NotFoundError, RecordsError, StoreBehindError, StoreUnavailableError
from .retention import RETENTION_YEARS, RetentionError
from .store import (
    CERTIFICATE_FORMATS,
    HEARTBEAT_CAP_SECONDS,
    RecordsStore,
    default_url,
    readable_code,
    sqlite_url,
)
from .values import (
    AttendanceKind,
    AttendanceRow,
    Certificate,
    ConferenceSession,
    CreditRecord,
    Evaluation,
    ModuleProgress,
    Participant,
    PollAnswer,
    PurgeCounts,
    QuestionAnswer,
    TestAttempt,
    TestKind,
)

__all__ = [
    "CERTIFICATE_FORMATS",
    "HEARTBEAT_CAP_SECONDS",
    "RETENTION_YEARS",
    "AttendanceKind",
    "AttendanceRow",
    "Certificate",
    "ConferenceSession",
    "CreditRecord",
    "Evaluation",
    "ModuleProgress",
    "NotFoundError",
    "Participant",
    "PollAnswer",
    "PurgeCounts",
    "QuestionAnswer",
    "TestAttempt",
    "TestKind",
    "RecordsError",
    "RecordsStore",
    "StoreBehindError",
    "StoreUnavailableError",
    "RetentionError",
    "default_url",
    "readable_code",
    "sqlite_url",
]

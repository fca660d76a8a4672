"""SQLAlchemy tables of the records store (private: the store returns ``values`` instead).

No table has a column for patient data; cases are referred to only by slug.
A change here needs its Alembic revision in ``migrations/versions`` (see :mod:`.schema`): a
test compares the migrated schema with these tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .errors import RecordsError


IDEMPOTENCY_KEY_LENGTH = 100  # a journaled record's key: the same record replayed twice lands once


class UTCDateTime(TypeDecorator):
    """Aware UTC in and out, naive UTC stored, so SQLite and PostgreSQL compare alike."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return require_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def require_utc(value: datetime) -> datetime:
    """Refuse naive datetimes rather than guess their zone; convert aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise RecordsError(f"timestamps must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class ParticipantRow(Base):
    __tablename__ = "participant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    licence_id: Mapped[str | None] = mapped_column(String(100))
    username: Mapped[str | None] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_educator: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionRow(Base):
    __tablename__ = "conference_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AttendanceEventRow(Base):
    __tablename__ = "attendance_event"
    __table_args__ = (Index("ix_attendance_session_participant", "session_id", "participant_id"),
                      Index("uq_attendance_event_idempotency_key", "idempotency_key", unique=True))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conference_session.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH))  # see .journal


class PollAnswerRow(Base):
    __tablename__ = "poll_answer"
    __table_args__ = (Index("uq_poll_answer_idempotency_key", "idempotency_key", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conference_session.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    poll_id: Mapped[str] = mapped_column(String(100))
    answer: Mapped[Any] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH))  # see .journal


class QuestionAnswerRow(Base):
    __tablename__ = "question_answer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("conference_session.id"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    case_slug: Mapped[str] = mapped_column(String(200))
    question_id: Mapped[str] = mapped_column(String(100))
    answer: Mapped[Any] = mapped_column(JSON)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CertificateRow(Base):
    """One per participant and live session, and one per participant and module for self-study:
    the database itself refuses a second, so two requests at once (or two server processes)
    cannot credit the same teaching twice."""

    __tablename__ = "certificate"
    __table_args__ = (
        Index("uq_certificate_live_session", "participant_id", "session_id", unique=True,
              sqlite_where=text("session_id IS NOT NULL"), postgresql_where=text("session_id IS NOT NULL")),
        Index("uq_certificate_self_study_module", "participant_id", "module", unique=True,
              sqlite_where=text("format = 'self-study' AND module IS NOT NULL"),
              postgresql_where=text("format = 'self-study' AND module IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    activity: Mapped[str] = mapped_column(String(200))
    quarter_hours: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    module: Mapped[str | None] = mapped_column(String(200))
    credit_type: Mapped[str | None] = mapped_column(String(100))
    format: Mapped[str | None] = mapped_column(String(20))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("conference_session.id"))


class ModuleProgressRow(Base):
    """One row per participant and module; modules are referred to by name (their file stem)."""

    __tablename__ = "module_progress"
    __table_args__ = (UniqueConstraint("participant_id", "module", name="uq_module_progress_participant_module"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    module: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disclosures_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    position: Mapped[int] = mapped_column(Integer, default=0)
    seconds_on_task: Mapped[float] = mapped_column(Float, default=0.0)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TestAttemptRow(Base):
    __tablename__ = "test_attempt"
    __table_args__ = (Index("ix_test_attempt_participant_module", "participant_id", "module"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    module: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    answers: Mapped[Any] = mapped_column(JSON)
    correct: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ClientRecordRow(Base):
    """A record a browser made offline and sent with its own idempotency key (readingroom's outbox):
    written in the same transaction as the answer, test, evaluation or time it stands for, so a
    record sent twice (a reply lost, two tabs flushing at once) lands once."""

    __tablename__ = "client_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_LENGTH), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class EvaluationRow(Base):
    __tablename__ = "evaluation"
    __table_args__ = (Index("ix_evaluation_participant_module", "participant_id", "module"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    module: Mapped[str] = mapped_column(String(200))
    answers: Mapped[Any] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

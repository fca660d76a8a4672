"""Plain values the store takes and returns, so no ORM object or session leaks out.

None of these has a field for patient data, by design (DESIGN.md, data path 6): records
are about people attending and answering, never about the patients in the cases.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class AttendanceKind(str, enum.Enum):
    """What a participant's websocket did; reconnect means a dropped link came back."""

    JOIN = "join"
    LEAVE = "leave"
    RECONNECT = "reconnect"


@dataclass(frozen=True)
class Participant:
    id: int
    display_name: str
    licence_id: str | None
    username: str | None
    is_educator: bool = False  # may start conferences and see every record; set from the CLI, or by JupyterHub


@dataclass(frozen=True)
class ConferenceSession:
    """A live conference on one case or one module (``kind`` says which)."""

    id: int
    kind: str
    ref: str
    starts_at: datetime
    ends_at: datetime | None


@dataclass(frozen=True)
class AttendanceRow:
    """One line of ``readingroom records attendance SESSION``."""

    participant_id: int
    display_name: str
    licence_id: str | None
    first_join: datetime
    last_event: datetime
    reconnects: int
    minutes_present: float


@dataclass(frozen=True)
class PollAnswer:
    session_id: int
    participant_id: int
    poll_id: str
    answer: Any
    answered_at: datetime


@dataclass(frozen=True)
class QuestionAnswer:
    participant_id: int
    case_slug: str
    question_id: str
    answer: Any
    correct: bool | None
    answered_at: datetime
    session_id: int | None


@dataclass(frozen=True)
class Certificate:
    """Credit is kept in quarter hours (CME's unit), so no rounding happens in storage.

    ``module``, ``credit_type``, ``format`` ("live" or "self-study"), ``started_at`` and
    ``session_id`` are set for module credit and None on plain activity certificates.
    """

    code: str
    participant_id: int
    activity: str
    quarter_hours: int
    completed_at: datetime
    module: str | None = None
    credit_type: str | None = None
    format: str | None = None
    started_at: datetime | None = None
    session_id: int | None = None


@dataclass(frozen=True)
class ModuleProgress:
    """Where one participant is in one module: resume point, time on task, disclosures seen."""

    participant_id: int
    module: str
    started_at: datetime
    disclosures_seen_at: datetime | None
    position: int
    seconds_on_task: float
    last_heartbeat_at: datetime | None


class TestKind(str, enum.Enum):
    __test__ = False  # not a pytest class despite the name

    PRE = "pre"
    POST = "post"


@dataclass(frozen=True)
class TestAttempt:
    """One submitted pre- or post-test, scored on the server against the module's key."""

    __test__ = False

    participant_id: int
    module: str
    kind: TestKind
    answers: dict[str, int]
    correct: int
    total: int
    passed: bool
    at: datetime


@dataclass(frozen=True)
class Evaluation:
    participant_id: int
    module: str
    answers: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class CreditRecord:
    """One line of ``readingroom records export``: the fields licensing boards ask for."""

    display_name: str
    licence_id: str | None
    activity: str
    completed_at: datetime
    credit_type: str | None
    quarter_hours: int
    format: str | None
    code: str


@dataclass(frozen=True)
class PurgeCounts:
    attendance_events: int
    poll_answers: int
    question_answers: int
    test_attempts: int = 0
    evaluations: int = 0

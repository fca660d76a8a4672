"""The records store: one object per database URL, injected where needed, no module globals.

SQLite file by default (one machine), a ``postgresql+psycopg://`` URL for deployments;
the same calls behave the same on both. An empty store is made at the newest schema on
first use; an older one is refused until ``readingroom records upgrade`` (:mod:`.schema`).
Never any patient data (DESIGN.md, data path 6).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from . import passwords
from .attendance import time_present
from .errors import NotFoundError, RecordsError, StoreUnavailableError
from .journal import Entry
from .models import (
    AttendanceEventRow,
    CertificateRow,
    ClientRecordRow,
    EvaluationRow,
    ModuleProgressRow,
    ParticipantRow,
    PollAnswerRow,
    QuestionAnswerRow,
    SessionRow,
    TestAttemptRow,
    require_utc,
)
from .retention import check_cutoff
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

SESSION_KINDS = ("case", "module")
CERTIFICATE_FORMATS = ("live", "self-study")
# Time on task grows by the gap between heartbeats, at most this much per heartbeat: pages beat
# every 30 s while the learner is active, so a tab left open overnight earns one minute, not hours.
HEARTBEAT_CAP_SECONDS = 60.0
T = TypeVar("T")
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed from paper


def readable_code(length: int) -> str:
    """A random code people can read aloud and type from paper (certificates, conference joins)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def sqlite_url(path: str | Path) -> str:
    """The URL of a SQLite file, e.g. for ``--records records.sqlite``."""
    return f"sqlite:///{Path(path).resolve()}"


def default_url() -> str:
    """``$READINGROOM_RECORDS`` if set, else a SQLite file in the user's data folder (never in the repo)."""
    if os.environ.get("READINGROOM_RECORDS"):
        return os.environ["READINGROOM_RECORDS"]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    folder = data_home / "readingroom"
    folder.mkdir(parents=True, exist_ok=True)
    return sqlite_url(folder / "records.sqlite")


class RecordsStore:
    """Attendance, answers, accounts and certificates behind one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Engine = create_engine(url)
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", _sqlite_settings)
        self._schema_ready = False

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> RecordsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ensure_schema(self) -> None:
        """Make an empty store, or refuse one whose schema is behind (StoreBehindError naming the upgrade)."""
        if not self._schema_ready:
            from . import schema

            try:
                schema.ensure_current(self._engine)
            except OperationalError as error:
                shown = self._engine.url.render_as_string(hide_password=True)
                cause = (str(error.orig or error).strip().splitlines() or ["unreachable"])[0]
                raise StoreUnavailableError(f"cannot open the records store {shown}: {cause}; check --records and "
                                            f"that the database is running") from None
            self._schema_ready = True

    def upgrade_schema(self) -> tuple[str | None, str]:
        """Migrate the store to this version's schema: (revision before, revision after)."""
        from . import schema

        before_after = schema.upgrade(self._engine)
        self._schema_ready = True
        return before_after

    @contextmanager
    def _session(self) -> Iterator[Session]:
        self.ensure_schema()
        with Session(self._engine) as session, session.begin():
            yield session

    # Participants and local accounts

    def add_participant(
        self,
        display_name: str,
        *,
        licence_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        is_educator: bool = False,
    ) -> Participant:
        """A participant; with ``username`` and ``password``, also a local account."""
        if not display_name.strip():
            raise RecordsError("a participant needs a display name")
        if (username is None) != (password is None):
            raise RecordsError("a local account needs both a username and a password")
        row = ParticipantRow(
            display_name=display_name,
            licence_id=licence_id,
            username=username,
            password_hash=passwords.hash_password(password) if password is not None else None,
            is_educator=is_educator,
        )
        with self._session() as s:
            taken = select(ParticipantRow.id).where(ParticipantRow.username == username)
            if username is not None and s.scalars(taken).first():
                raise RecordsError(f"the username {username!r} is taken; choose another")
            s.add(row)
            s.flush()
            return _participant(row)

    def participant(self, participant_id: int) -> Participant:
        with self._session() as s:
            return _participant(_get(s, ParticipantRow, participant_id))

    def single_sign_on(self, username: str, *, educator: bool | None = None) -> Participant:
        """The account a sign-on proxy or JupyterHub vouches for, made on first sight (no password: it cannot
        sign in locally). ``educator``, when the sign-on says (a hub admin or group member), is kept in step."""
        username = username.strip()
        if not username or len(username) > 200:
            raise RecordsError("a single-sign-on username must have 1-200 characters")
        with self._session() as s:
            row = s.scalars(select(ParticipantRow).where(ParticipantRow.username == username)).first()
            if row is None:
                row = ParticipantRow(display_name=username, username=username, is_educator=bool(educator))
                s.add(row)
                s.flush()
            elif educator is not None and row.is_educator != educator:
                row.is_educator = educator
            return _participant(row)

    def authenticate(self, username: str, password: str) -> Participant | None:
        """The account's participant if the password matches, else None (no hint which was wrong)."""
        with self._session() as s:
            row = s.scalars(select(ParticipantRow).where(ParticipantRow.username == username)).first()
            if row is None or row.password_hash is None:
                passwords.verify_nobody(password)
                return None
            if not passwords.verify_password(row.password_hash, password):
                return None
            if passwords.needs_rehash(row.password_hash):
                row.password_hash = passwords.hash_password(password)
            return _participant(row)

    # Conference sessions and attendance

    def create_session(
        self, kind: str, ref: str, starts_at: datetime, ends_at: datetime | None = None
    ) -> ConferenceSession:
        """A conference on one case (``kind="case"``, ref = slug) or a module (ref = module name)."""
        if kind not in SESSION_KINDS:
            raise RecordsError(f"session kind must be one of {SESSION_KINDS}, got {kind!r}")
        starts_at = require_utc(starts_at)
        ends_at = None if ends_at is None else require_utc(ends_at)
        _check_order(starts_at, ends_at)
        row = SessionRow(kind=kind, ref=ref, starts_at=starts_at, ends_at=ends_at)
        with self._session() as s:
            s.add(row)
            s.flush()
            return _conference(row)

    def end_session(self, session_id: int, ends_at: datetime) -> ConferenceSession:
        with self._session() as s:
            row = _get(s, SessionRow, session_id)
            _check_order(row.starts_at, ends_at)
            row.ends_at = require_utc(ends_at)
            return _conference(row)

    def session(self, session_id: int) -> ConferenceSession:
        with self._session() as s:
            return _conference(_get(s, SessionRow, session_id))

    def close_at_last_activity(self, session_id: int) -> ConferenceSession:
        """A session a crash left open ends at the last activity recorded in it, and whoever was present leaves then.

        Attendance is then counted to that moment, not to whenever the server came back; a
        session that has an end already is left as it is.
        """
        with self._session() as s:
            row = _get(s, SessionRow, session_id)
            if row.ends_at is not None:
                return _conference(row)
            events = s.execute(
                select(AttendanceEventRow.participant_id, AttendanceEventRow.kind, AttendanceEventRow.at)
                .where(AttendanceEventRow.session_id == session_id)
                .order_by(AttendanceEventRow.at, AttendanceEventRow.id)
            ).all()
            answered = s.scalar(select(func.max(PollAnswerRow.answered_at)).where(PollAnswerRow.session_id == session_id))
            last = max([row.starts_at, *(at for _, _, at in events[-1:]), *([answered] if answered else [])])
            latest: dict[int, str] = {pid: kind for pid, kind, _ in events}
            for pid, kind in latest.items():
                if kind != AttendanceKind.LEAVE.value:
                    s.add(AttendanceEventRow(session_id=session_id, participant_id=pid, kind=AttendanceKind.LEAVE.value,
                                             at=last, idempotency_key=f"crash-close:{session_id}:{pid}:{len(events)}"))
            row.ends_at = last
            return _conference(row)

    def open_sessions(self, session_ids: Sequence[int]) -> list[int]:
        """Those of ``session_ids`` that have no end."""
        with self._session() as s:
            query = select(SessionRow.id).where(SessionRow.id.in_(session_ids), SessionRow.ends_at.is_(None))
            return list(s.scalars(query.order_by(SessionRow.id)))

    def reopen_session(self, session_id: int) -> ConferenceSession:
        """A resumed conference is running again (participants' joins from now on open new intervals)."""
        with self._session() as s:
            row = _get(s, SessionRow, session_id)
            row.ends_at = None
            return _conference(row)

    def participants_in(self, session_id: int) -> dict[int, str]:
        """Display names of everyone with attendance in the session, by participant id."""
        with self._session() as s:
            attended = select(AttendanceEventRow.participant_id).where(AttendanceEventRow.session_id == session_id)
            rows = s.execute(select(ParticipantRow.id, ParticipantRow.display_name).where(ParticipantRow.id.in_(attended)))
            return dict(rows.all())

    def record_entries(self, entries: Sequence[Entry]) -> None:
        """Journaled records (:mod:`.journal`) in one transaction; one whose key is here already (a replay) is skipped."""
        keys = [entry.key for entry in entries]
        with self._session() as s:
            landed = set(s.scalars(select(AttendanceEventRow.idempotency_key)
                                   .where(AttendanceEventRow.idempotency_key.in_(keys))))
            landed |= set(s.scalars(select(PollAnswerRow.idempotency_key).where(PollAnswerRow.idempotency_key.in_(keys))))
            answers, attendance = [], []
            for entry in entries:
                at = require_utc(entry.at)
                if entry.kind == "end":  # setting the end again is harmless: no key needed
                    row = _get(s, SessionRow, entry.session_id)
                    _check_order(row.starts_at, at)
                    row.ends_at = at
                elif entry.key in landed:
                    continue
                elif entry.kind == "answer":
                    answers.append({"session_id": entry.session_id, "participant_id": entry.participant_id,
                                    "poll_id": entry.poll_id, "answer": entry.answer, "answered_at": at,
                                    "idempotency_key": entry.key})
                else:
                    attendance.append({"session_id": entry.session_id, "participant_id": entry.participant_id,
                                       "kind": AttendanceKind(entry.kind).value, "at": at, "idempotency_key": entry.key})
            # bulk inserts (one statement for many rows); a refused row (no such session or participant) fails
            # here, inside the transaction
            for table, rows in ((PollAnswerRow, answers), (AttendanceEventRow, attendance)):
                if rows:
                    s.execute(insert(table), rows)

    def record_join(self, session_id: int, participant_id: int, at: datetime) -> None:
        self._record(session_id, participant_id, AttendanceKind.JOIN, at)

    def record_leave(self, session_id: int, participant_id: int, at: datetime) -> None:
        self._record(session_id, participant_id, AttendanceKind.LEAVE, at)

    def record_reconnect(self, session_id: int, participant_id: int, at: datetime) -> None:
        """A dropped link came back; presence resumes from ``at``."""
        self._record(session_id, participant_id, AttendanceKind.RECONNECT, at)

    def _record(self, session_id: int, participant_id: int, kind: AttendanceKind, at: datetime) -> None:
        at = require_utc(at)
        with self._session() as s:
            _get(s, SessionRow, session_id)
            _get(s, ParticipantRow, participant_id)
            s.add(AttendanceEventRow(session_id=session_id, participant_id=participant_id, kind=kind.value, at=at))

    def sessions_attended(self, participant_id: int) -> list[ConferenceSession]:
        """Every conference session the participant joined, oldest first (where live credit can come from)."""
        with self._session() as s:
            joined = select(AttendanceEventRow.session_id).where(AttendanceEventRow.participant_id == participant_id)
            rows = s.scalars(select(SessionRow).where(SessionRow.id.in_(joined)).order_by(SessionRow.starts_at))
            return [_conference(row) for row in rows]

    def minutes_present(self, session_id: int, participant_id: int, *, until: datetime | None = None) -> float:
        """Minutes inside the session; an interval still open is closed at the session's end.

        ``until`` stands in for the end of a session that has not ended yet.
        """
        with self._session() as s:
            conf = _conference(_get(s, SessionRow, session_id))
            events = _events(s, session_id, participant_id)
        end = _end(conf, until)
        return time_present(events, conf.starts_at, end).total_seconds() / 60

    def attendance_report(self, session_id: int, *, until: datetime | None = None) -> list[AttendanceRow]:
        """One row per participant who joined, ordered by display name."""
        with self._session() as s:
            conf = _conference(_get(s, SessionRow, session_id))
            end = _end(conf, until)
            rows = s.execute(
                select(AttendanceEventRow.participant_id, AttendanceEventRow.kind, AttendanceEventRow.at)
                .where(AttendanceEventRow.session_id == session_id)
                .order_by(AttendanceEventRow.at, AttendanceEventRow.id)
            ).all()
            by_participant: dict[int, list[tuple[AttendanceKind, datetime]]] = {}
            for pid, kind, at in rows:
                by_participant.setdefault(pid, []).append((AttendanceKind(kind), at))
            people = {p.id: p for p in s.scalars(select(ParticipantRow).where(ParticipantRow.id.in_(by_participant)))}
            report = [
                AttendanceRow(
                    participant_id=pid,
                    display_name=people[pid].display_name,
                    licence_id=people[pid].licence_id,
                    first_join=events[0][1],
                    last_event=events[-1][1],
                    reconnects=sum(1 for kind, _ in events if kind is AttendanceKind.RECONNECT),
                    minutes_present=time_present(events, conf.starts_at, end).total_seconds() / 60,
                )
                for pid, events in by_participant.items()
            ]
        return sorted(report, key=lambda r: (r.display_name.casefold(), r.participant_id))

    # Answers

    def record_poll_answer(
        self, session_id: int, participant_id: int, poll_id: str, answer: Any, at: datetime
    ) -> PollAnswer:
        """A poll answer: a choice, or ``{"x": .., "y": .., "frame": ..}`` for locate polls."""
        at = require_utc(at)
        with self._session() as s:
            _get(s, SessionRow, session_id)
            _get(s, ParticipantRow, participant_id)
            row = PollAnswerRow(
                session_id=session_id, participant_id=participant_id, poll_id=poll_id, answer=answer, answered_at=at
            )
            s.add(row)
            s.flush()
            return PollAnswer(session_id, participant_id, poll_id, row.answer, at)

    def poll_answers(self, session_id: int, poll_id: str | None = None) -> list[PollAnswer]:
        with self._session() as s:
            query = select(PollAnswerRow).where(PollAnswerRow.session_id == session_id)
            if poll_id is not None:
                query = query.where(PollAnswerRow.poll_id == poll_id)
            return [
                PollAnswer(r.session_id, r.participant_id, r.poll_id, r.answer, r.answered_at)
                for r in s.scalars(query.order_by(PollAnswerRow.answered_at, PollAnswerRow.id))
            ]

    def record_question_answer(
        self,
        participant_id: int,
        case_slug: str,
        question_id: str,
        answer: Any,
        correct: bool | None,
        at: datetime,
        *,
        session_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> QuestionAnswer | None:
        """An answer to a case question; ``correct`` is None for free text not yet marked.

        With ``idempotency_key`` (a browser's, see :meth:`landed`): None when that key landed already.
        """
        at = require_utc(at)

        def write(s: Session):
            _get(s, ParticipantRow, participant_id)
            if session_id is not None:
                _get(s, SessionRow, session_id)
            row = QuestionAnswerRow(
                session_id=session_id,
                participant_id=participant_id,
                case_slug=case_slug,
                question_id=question_id,
                answer=answer,
                correct=correct,
                answered_at=at,
            )
            s.add(row)
            s.flush()
            return _question_answer(row, at)

        return self._once(idempotency_key, participant_id, "answer", at, write)

    def question_answers(self, participant_id: int, case_slug: str | None = None) -> list[QuestionAnswer]:
        with self._session() as s:
            query = select(QuestionAnswerRow).where(QuestionAnswerRow.participant_id == participant_id)
            if case_slug is not None:
                query = query.where(QuestionAnswerRow.case_slug == case_slug)
            rows = s.scalars(query.order_by(QuestionAnswerRow.answered_at, QuestionAnswerRow.id))
            return [_question_answer(r, r.answered_at) for r in rows]

    # Certificates

    def issue_certificate(
        self,
        participant_id: int,
        activity: str,
        quarter_hours: int,
        completed_at: datetime,
        *,
        module: str | None = None,
        credit_type: str | None = None,
        format: str | None = None,  # noqa: A002  (the word boards use: live or self-study)
        started_at: datetime | None = None,
        session_id: int | None = None,
    ) -> Certificate:
        """A certificate with a fresh verification code (12 characters, about 60 bits).

        One per live session, and one per module for self-study: asking again (or twice at once)
        returns the certificate already issued.
        """
        if quarter_hours < 0:
            raise RecordsError(f"credit must be >= 0 quarter hours, got {quarter_hours}")
        if format is not None and format not in CERTIFICATE_FORMATS:
            raise RecordsError(f"certificate format must be one of {CERTIFICATE_FORMATS}, got {format!r}")
        completed_at = require_utc(completed_at)
        started_at = None if started_at is None else require_utc(started_at)
        code = readable_code(12)
        row = CertificateRow(
            code=code,
            participant_id=participant_id,
            activity=activity,
            quarter_hours=quarter_hours,
            completed_at=completed_at,
            module=module,
            credit_type=credit_type,
            format=format,
            started_at=started_at,
            session_id=session_id,
        )
        try:
            with self._session() as s:
                _get(s, ParticipantRow, participant_id)
                if session_id is not None:
                    _get(s, SessionRow, session_id)
                s.add(row)
                s.flush()
                return _certificate(row)
        except IntegrityError:  # already issued, perhaps by a request that ran at the same moment
            issued = self._issued(participant_id, module, format, session_id)
            if issued is None:
                raise
            return issued

    def _issued(self, participant_id: int, module: str | None, format: str | None,  # noqa: A002
                session_id: int | None) -> Certificate | None:
        query = select(CertificateRow).where(CertificateRow.participant_id == participant_id)
        if session_id is not None:
            query = query.where(CertificateRow.session_id == session_id)
        else:
            query = query.where(CertificateRow.module == module, CertificateRow.format == format)
        with self._session() as s:
            row = s.scalars(query).first()
            return None if row is None else _certificate(row)

    def certificate(self, code: str) -> Certificate | None:
        """The certificate a ``/verify/<code>`` page confirms, or None."""
        with self._session() as s:
            row = s.scalars(select(CertificateRow).where(CertificateRow.code == code.strip().upper())).first()
            return None if row is None else _certificate(row)

    def certificates(self, participant_id: int, module: str | None = None) -> list[Certificate]:
        """A participant's certificates, oldest first; with ``module``, only that module's."""
        with self._session() as s:
            query = select(CertificateRow).where(CertificateRow.participant_id == participant_id)
            if module is not None:
                query = query.where(CertificateRow.module == module)
            return [_certificate(r) for r in s.scalars(query.order_by(CertificateRow.completed_at, CertificateRow.id))]

    def credit_export(self, *, since: datetime | None = None, until: datetime | None = None) -> list[CreditRecord]:
        """Every certificate with its holder's name and licence, by completion date (``since`` <= date < ``until``)."""
        query = select(CertificateRow, ParticipantRow).join(
            ParticipantRow, CertificateRow.participant_id == ParticipantRow.id
        )
        if since is not None:
            query = query.where(CertificateRow.completed_at >= require_utc(since))
        if until is not None:
            query = query.where(CertificateRow.completed_at < require_utc(until))
        with self._session() as s:
            return [
                CreditRecord(
                    display_name=person.display_name,
                    licence_id=person.licence_id,
                    activity=cert.activity,
                    completed_at=cert.completed_at,
                    credit_type=cert.credit_type,
                    quarter_hours=cert.quarter_hours,
                    format=cert.format,
                    code=cert.code,
                )
                for cert, person in s.execute(query.order_by(CertificateRow.completed_at, CertificateRow.id))
            ]

    # Curriculum modules: progress, tests, evaluations (modules are referred to by name)

    def start_module(self, participant_id: int, module: str, at: datetime) -> ModuleProgress:
        """The participant's progress in ``module``, begun at ``at`` on the first call; later calls change nothing."""
        at = require_utc(at)
        try:
            with self._session() as s:
                return _progress(_progress_row(s, participant_id, module, at))
        except IntegrityError:  # a second request started it at the same moment: read the winner's row
            progress = self.module_progress(participant_id, module)
            if progress is None:
                raise
            return progress

    def module_progress(self, participant_id: int, module: str) -> ModuleProgress | None:
        with self._session() as s:
            row = _find_progress(s, participant_id, module)
            return None if row is None else _progress(row)

    def record_disclosures_seen(self, participant_id: int, module: str, at: datetime) -> ModuleProgress:
        """The faculty disclosures were shown; the first time counts (credit needs it before the content)."""
        at = require_utc(at)
        with self._session() as s:
            row = _progress_row(s, participant_id, module, at)
            if row.disclosures_seen_at is None:
                row.disclosures_seen_at = at
            return _progress(row)

    def record_heartbeat(
        self, participant_id: int, module: str, at: datetime, *, position: int | None = None, resumed: bool = False
    ) -> ModuleProgress:
        """The learner is active: add the time since the last heartbeat (at most HEARTBEAT_CAP_SECONDS).

        ``resumed`` marks the first beat after the page was hidden or idle: the clock restarts
        there and the time away adds nothing. With ``position``, also remember the step they
        are on, so they resume there.

        Time counts for one module at a time: while another of the learner's modules has had a
        beat within HEARTBEAT_CAP_SECONDS (two tabs open), this beat adds nothing and is not
        kept, so the module that held the clock keeps it; once that one goes quiet, this one's
        clock starts after its last beat, so no minute counts twice.
        """
        at = require_utc(at)
        with self._session() as s:
            row = _progress_row(s, participant_id, module, at)
            other = _latest_other_heartbeat(s, participant_id, module)
            busy_elsewhere = other is not None and (at - other).total_seconds() < HEARTBEAT_CAP_SECONDS
            last = row.last_heartbeat_at
            if not busy_elsewhere and (last is None or at > last):
                start = max(last, other) if last is not None and other is not None else last
                if start is not None and not resumed:
                    row.seconds_on_task += min((at - start).total_seconds(), HEARTBEAT_CAP_SECONDS)
                row.last_heartbeat_at = at
            if position is not None:
                row.position = _check_position(position)
            return _progress(row)

    def record_offline_time(self, participant_id: int, module: str, seconds: float, at: datetime, *,
                            idempotency_key: str) -> ModuleProgress | None:
        """Time on task a page counted while offline (it could send no heartbeat), at most
        HEARTBEAT_CAP_SECONDS a record, as a heartbeat would add; None when the key landed already."""
        if not 0 <= seconds <= HEARTBEAT_CAP_SECONDS:
            raise RecordsError(f"offline time is 0-{HEARTBEAT_CAP_SECONDS:g} seconds a record, got {seconds}")
        at = require_utc(at)

        def write(s: Session):
            row = _progress_row(s, participant_id, module, at)
            row.seconds_on_task += seconds
            return _progress(row)

        return self._once(idempotency_key, participant_id, "time", at, write)

    def landed(self, participant_id: int, idempotency_key: str) -> bool:
        """Whether the participant's record with this key is in the store (sent before, its reply lost)."""
        with self._session() as s:
            found = select(ClientRecordRow.id).where(ClientRecordRow.idempotency_key == _scoped(participant_id, idempotency_key))
            return s.scalars(found).first() is not None

    def _once(self, key: str | None, participant_id: int, kind: str, at: datetime,
              write: Callable[[Session], T]) -> T | None:
        """``write`` in one transaction with ``key`` (a browser's record), or None when the key landed already.

        The key's row and the record are committed together. Two requests carrying the same key
        at once both try to insert it; the unique index lets one commit, and the other gets None.
        """
        if key is None:
            with self._session() as s:
                return write(s)
        scoped = _scoped(participant_id, key)
        try:
            with self._session() as s:
                if s.scalars(select(ClientRecordRow.id).where(ClientRecordRow.idempotency_key == scoped)).first():
                    return None
                s.add(ClientRecordRow(idempotency_key=scoped, participant_id=participant_id, kind=kind, at=at))
                s.flush()
                return write(s)
        except IntegrityError:
            if self.landed(participant_id, key):
                return None
            raise

    def record_position(self, participant_id: int, module: str, position: int, at: datetime) -> ModuleProgress:
        """The step the learner is on (index into the module's steps), where they resume."""
        at = require_utc(at)
        with self._session() as s:
            row = _progress_row(s, participant_id, module, at)
            row.position = _check_position(position)
            return _progress(row)

    def record_test_attempt(
        self,
        participant_id: int,
        module: str,
        kind: TestKind | str,
        answers: dict[str, int],
        *,
        correct: int,
        total: int,
        passed: bool,
        at: datetime,
        idempotency_key: str | None = None,
    ) -> TestAttempt | None:
        """A submitted pre- or post-test, already scored on the server (None: ``idempotency_key`` landed already)."""
        kind = TestKind(kind)
        at = require_utc(at)
        if not 0 <= correct <= total:
            raise RecordsError(f"a score needs 0 <= correct <= total, got {correct}/{total}")

        def write(s: Session):
            _get(s, ParticipantRow, participant_id)
            row = TestAttemptRow(
                participant_id=participant_id, module=module, kind=kind.value, answers=dict(answers),
                correct=correct, total=total, passed=passed, at=at,
            )
            s.add(row)
            s.flush()
            return _attempt(row)

        return self._once(idempotency_key, participant_id, "test", at, write)

    def test_attempts(self, participant_id: int, module: str, kind: TestKind | str | None = None) -> list[TestAttempt]:
        """Attempts oldest first; with ``kind``, only pre- or only post-tests."""
        with self._session() as s:
            query = select(TestAttemptRow).where(
                TestAttemptRow.participant_id == participant_id, TestAttemptRow.module == module
            )
            if kind is not None:
                query = query.where(TestAttemptRow.kind == TestKind(kind).value)
            return [_attempt(r) for r in s.scalars(query.order_by(TestAttemptRow.at, TestAttemptRow.id))]

    def record_evaluation(self, participant_id: int, module: str, answers: dict[str, Any], at: datetime, *,
                          idempotency_key: str | None = None) -> Evaluation | None:
        """The activity evaluation (validated by the curriculum layer before it gets here); None when
        ``idempotency_key`` landed already."""
        at = require_utc(at)

        def write(s: Session):
            _get(s, ParticipantRow, participant_id)
            row = EvaluationRow(participant_id=participant_id, module=module, answers=dict(answers), at=at)
            s.add(row)
            s.flush()
            return Evaluation(participant_id, module, row.answers, at)

        return self._once(idempotency_key, participant_id, "evaluation", at, write)

    def evaluations(self, participant_id: int, module: str) -> list[Evaluation]:
        with self._session() as s:
            rows = s.scalars(
                select(EvaluationRow)
                .where(EvaluationRow.participant_id == participant_id, EvaluationRow.module == module)
                .order_by(EvaluationRow.at, EvaluationRow.id)
            )
            return [Evaluation(r.participant_id, r.module, r.answers, r.at) for r in rows]

    # Retention

    def purge_before(self, cutoff: datetime, *, now: datetime | None = None) -> PurgeCounts:
        """Delete attendance events and answers older than ``cutoff``; refuses under six years."""
        cutoff = check_cutoff(cutoff, now or datetime.now(UTC))
        with self._session() as s:
            counts = [
                s.execute(delete(table).where(column < cutoff)).rowcount
                for table, column in (
                    (AttendanceEventRow, AttendanceEventRow.at),
                    (PollAnswerRow, PollAnswerRow.answered_at),
                    (QuestionAnswerRow, QuestionAnswerRow.answered_at),
                    (TestAttemptRow, TestAttemptRow.at),
                    (EvaluationRow, EvaluationRow.at),
                )
            ]
        return PurgeCounts(*counts)


def _sqlite_settings(dbapi_connection: Any, _record: Any) -> None:
    """SQLite ignores foreign keys unless asked, PostgreSQL always enforces them.

    Write-ahead log: a commit is one fsync of the log instead of several of the file and its
    journal (80 ms -> 3 ms a commit on a plain ext4 disk), so 200 people joining a conference
    at once are written in about a second; readers and the writer no longer block each other.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _get(s: Session, table: type[Any], row_id: int) -> Any:
    row = s.get(table, row_id)
    if row is None:
        raise NotFoundError(f"no {table.__tablename__} with id {row_id}")
    return row


def _events(s: Session, session_id: int, participant_id: int) -> list[tuple[AttendanceKind, datetime]]:
    rows = s.execute(
        select(AttendanceEventRow.kind, AttendanceEventRow.at)
        .where(AttendanceEventRow.session_id == session_id, AttendanceEventRow.participant_id == participant_id)
        .order_by(AttendanceEventRow.at, AttendanceEventRow.id)
    ).all()
    return [(AttendanceKind(kind), at) for kind, at in rows]


def _end(conf: ConferenceSession, until: datetime | None) -> datetime:
    if until is not None:
        return require_utc(until)
    if conf.ends_at is None:
        raise RecordsError(f"session {conf.id} has not ended; pass until= to count up to a moment")
    return conf.ends_at


def _check_order(starts_at: datetime, ends_at: datetime | None) -> None:
    if ends_at is not None and require_utc(ends_at) < require_utc(starts_at):
        raise RecordsError(
            f"a session cannot end ({ends_at.isoformat()}) before it starts ({starts_at.isoformat()})"
        )


def _participant(row: ParticipantRow) -> Participant:
    return Participant(row.id, row.display_name, row.licence_id, row.username, bool(row.is_educator))


def _conference(row: SessionRow) -> ConferenceSession:
    return ConferenceSession(row.id, row.kind, row.ref, row.starts_at, row.ends_at)


def _certificate(row: CertificateRow) -> Certificate:
    return Certificate(
        row.code, row.participant_id, row.activity, row.quarter_hours, row.completed_at,
        row.module, row.credit_type, row.format, row.started_at, row.session_id,
    )


def _find_progress(s: Session, participant_id: int, module: str) -> ModuleProgressRow | None:
    return s.scalars(
        select(ModuleProgressRow).where(
            ModuleProgressRow.participant_id == participant_id, ModuleProgressRow.module == module
        )
    ).first()


def _progress_row(s: Session, participant_id: int, module: str, at: datetime) -> ModuleProgressRow:
    row = _find_progress(s, participant_id, module)
    if row is None:
        _get(s, ParticipantRow, participant_id)
        if not module.strip():
            raise RecordsError("a module name must not be empty")
        row = ModuleProgressRow(
            participant_id=participant_id, module=module, started_at=at, position=0, seconds_on_task=0.0
        )
        s.add(row)
        s.flush()
    return row


def _latest_other_heartbeat(s: Session, participant_id: int, module: str) -> datetime | None:
    """The learner's last heartbeat counted in any module but ``module``."""
    return s.scalar(select(func.max(ModuleProgressRow.last_heartbeat_at)).where(
        ModuleProgressRow.participant_id == participant_id, ModuleProgressRow.module != module))


def _check_position(position: int) -> int:
    if position < 0:
        raise RecordsError(f"a module position is a step index >= 0, got {position}")
    return position


def _progress(row: ModuleProgressRow) -> ModuleProgress:
    return ModuleProgress(
        row.participant_id, row.module, row.started_at, row.disclosures_seen_at, row.position,
        row.seconds_on_task, row.last_heartbeat_at,
    )


def _attempt(row: TestAttemptRow) -> TestAttempt:
    return TestAttempt(
        row.participant_id,
        row.module,
        TestKind(row.kind),
        dict(row.answers),
        row.correct,
        row.total,
        row.passed,
        row.at,
    )


def _question_answer(row: QuestionAnswerRow, at: datetime) -> QuestionAnswer:
    return QuestionAnswer(row.participant_id, row.case_slug, row.question_id, row.answer, row.correct, at, row.session_id)


def _scoped(participant_id: int, key: str) -> str:
    """A browser's key, kept per participant: one learner's key can never stand for another's record."""
    return f"{participant_id}:{key}"

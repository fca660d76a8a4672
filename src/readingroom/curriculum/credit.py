"""CME credit: quarter hours from attendance (live) or time on task (self-study), and when it is earned.

Credit is floored to whole quarter hours (the unit boards accept) and capped at the module's
designated maximum. It is awarded only once the faculty disclosures were shown, the post-test
was passed and the evaluation was submitted; each missing condition refuses with its reason.
"""

from __future__ import annotations

from datetime import datetime

from readingroom.curriculum.model import LIVE, SELF_STUDY, Module
from readingroom.errors import ReadingroomError
from readingroom.records import Certificate, ConferenceSession, ModuleProgress, RecordsStore, TestKind

SECONDS_PER_QUARTER_HOUR = 15 * 60


class CreditNotEarned(ReadingroomError):
    """A certificate was asked for before every condition was met; ``reason`` says which is missing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def quarter_hours(minutes: float, max_credits: float) -> int:
    """Whole quarter hours in ``minutes`` (rounded down), at most ``max_credits`` hours' worth."""
    if minutes < 0:
        raise ValueError(f"curriculum: minutes must be >= 0, got {minutes}")
    whole = int(round(minutes * 60, 3) // SECONDS_PER_QUARTER_HOUR)  # round first: 45 min may arrive as 44.99999
    return min(whole, round(max_credits * 4))


def live_credit(store: RecordsStore, session_id: int, participant_id: int, module: Module) -> int:
    """Quarter hours from minutes present at a live session on this module (or on one of its cases)."""
    session = store.session(session_id)
    if not _part_of(session, module):
        raise CreditNotEarned(
            f"session {session_id} ({session.kind} {session.ref!r}) is not part of the module {module.name!r}"
        )
    if session.ends_at is None:
        raise CreditNotEarned(f"session {session_id} has not ended yet; live credit is counted once it ends")
    return quarter_hours(store.minutes_present(session_id, participant_id), module.credit.max_credits)


def self_study_credit(progress: ModuleProgress | None, module: Module) -> int:
    """Quarter hours from the time on task the heartbeats recorded (zero if never started)."""
    if progress is None:
        return 0
    return quarter_hours(progress.seconds_on_task / 60, module.credit.max_credits)


def missing_conditions(store: RecordsStore, participant_id: int, module: Module) -> list[str]:
    """What still stands between the participant and a certificate, in the order they meet it."""
    progress = store.module_progress(participant_id, module.name)
    missing = []
    if progress is None or progress.disclosures_seen_at is None:
        missing.append("the faculty disclosures have not been shown; open the module's start page first")
    if not any(a.passed for a in store.test_attempts(participant_id, module.name, TestKind.POST)):
        missing.append(f"the post-test has not been passed (pass mark {round(module.pass_mark * 100)} %)")
    if not store.evaluations(participant_id, module.name):
        missing.append("the activity evaluation has not been submitted")
    return missing


def award(
    store: RecordsStore, participant_id: int, module: Module, *, now: datetime, session_id: int | None = None
) -> Certificate:
    """The participant's certificate for ``module`` (live with ``session_id``, else self-study).

    Asking again returns the certificate already issued, so a reload never doubles credit.
    """
    missing = missing_conditions(store, participant_id, module)
    if missing:
        raise CreditNotEarned(missing[0])
    activity_format = SELF_STUDY if session_id is None else LIVE
    for issued in store.certificates(participant_id, module.name):
        if issued.format == activity_format and issued.session_id == session_id:
            return issued
    if session_id is None:
        progress = store.module_progress(participant_id, module.name)
        credits = self_study_credit(progress, module)
        started_at, completed_at = progress.started_at, now
    else:
        credits = live_credit(store, session_id, participant_id, module)
        session = store.session(session_id)
        started_at, completed_at = session.starts_at, session.ends_at
    if credits == 0:
        raise CreditNotEarned("less than a quarter hour was recorded, and credit is given in quarter hours")
    return store.issue_certificate(
        participant_id,
        module.title,
        credits,
        completed_at,
        module=module.name,
        credit_type=module.credit.credit_type,
        format=activity_format,
        started_at=started_at,
        session_id=session_id,
    )


def award_earned(store: RecordsStore, participant_id: int, module: Module, *, now: datetime) -> list[Certificate]:
    """Every certificate the participant has earned for ``module``: live, else self-study.

    A certificate for each ended live session on the module (or one of its cases) they
    attended for at least a quarter hour; self-study credit only when no live session
    earned any, so the same teaching is never credited twice. Raises
    :class:`CreditNotEarned` with the reason when nothing is earned.
    """
    missing = missing_conditions(store, participant_id, module)
    if missing:
        raise CreditNotEarned(missing[0])
    live = [s for s in store.sessions_attended(participant_id) if s.ends_at is not None and _part_of(s, module)]
    earned = [award(store, participant_id, module, now=now, session_id=s.id) for s in live
              if live_credit(store, s.id, participant_id, module) > 0]
    return earned or [award(store, participant_id, module, now=now)]


def _part_of(session: ConferenceSession, module: Module) -> bool:
    return (session.kind == "module" and session.ref == module.name) or (session.kind == "case" and session.ref in module.cases)

"""What each module step does to the records, whether the page posted it now or a browser sends it later.

The module page's forms (:mod:`.modules`) and the records a browser kept while offline
(:mod:`.offline_records`) go through these same functions, so the steps' order, the
post-test's attempts and pass mark, and credit are decided in one place. A browser's
record brings its own idempotency key; the step's row is then stored once, however
often it is sent.
"""

from __future__ import annotations

from datetime import datetime

from readingroom.curriculum import (
    Module,
    award_earned,
    check_answers,
    check_evaluation,
    score,
)
from readingroom.errors import InputError
from readingroom.records import Participant, RecordsStore, TestKind
from readingroom.server.learning.steps import Standing

TITLES = {"disclosures": "the faculty disclosures", "pre-test": "the pre-test", "cases": "the cases",
          "post-test": "the post-test", "evaluation": "the evaluation", "certificate": "the certificate"}


class StepRefused(Exception):
    """The step cannot be taken now (HTTP status and one line saying why)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def standing(store: RecordsStore, user: Participant, module: Module, at: datetime) -> Standing:
    return Standing.of(module, store.start_module(user.id, module.name, at).position)


def require_step(place: Standing, key: str) -> None:
    """Steps go in order: the disclosures are seen before any content, the cases before the post-test."""
    if place.position < place.index(key):
        raise StepRefused(409, f"Finish {TITLES[place.current]} first.")


def advance(store: RecordsStore, user: Participant, module: Module, place: Standing, key: str, at: datetime) -> Standing:
    position = place.after(key)
    store.record_position(user.id, module.name, position, at)
    return Standing.of(module, position)


def open_case(store: RecordsStore, user: Participant, module: Module, case_id: str, at: datetime) -> None:
    """The case counts as opened (cases open in order)."""
    place = standing(store, user, module, at)
    if case_id not in place.case_ids:
        raise StepRefused(404, "That case is not part of this module.")
    key = f"case-{place.case_ids.index(case_id)}"
    require_step(place, key)
    advance(store, user, module, place, key, at)


def take_test(store: RecordsStore, user: Participant, module: Module, kind: str, raw: dict, at: datetime, *,
              idempotency_key: str | None = None) -> None:
    """A pre- or post-test scored here; a failed post-test may be retaken up to ``post_test_attempts``."""
    place = standing(store, user, module, at)
    key, questions = ("pre-test", module.pre_test) if kind == "pre" else ("post-test", module.post_test)
    if not questions:
        raise StepRefused(404, "This module has no pre-test.")
    require_step(place, key)
    if place.done(key):
        raise StepRefused(409, f"You have already completed {TITLES[key]}.")
    if kind == "post" and len(store.test_attempts(user.id, module.name, TestKind.POST)) >= module.post_test_attempts:
        raise StepRefused(409, f"You have used all {module.post_test_attempts} attempts at the post-test.")
    try:
        answers = check_answers(questions, {q.id: _index(raw.get(q.id)) for q in questions})
    except InputError as error:
        raise StepRefused(400, str(error)) from None
    result = score(questions, answers)
    passed = result.passed(module.pass_mark)
    stored = store.record_test_attempt(user.id, module.name, TestKind(kind), answers, correct=result.correct,
                                       total=result.total, passed=passed, at=at, idempotency_key=idempotency_key)
    if stored is not None and (kind == "pre" or passed):
        advance(store, user, module, place, key, at)


def submit_evaluation(store: RecordsStore, user: Participant, module: Module, raw: dict, at: datetime, *,
                      idempotency_key: str | None = None) -> None:
    """The evaluation, then credit if earned (CreditNotEarned says what is missing); InputError for bad answers."""
    place = standing(store, user, module, at)
    require_step(place, "evaluation")
    answers = check_evaluation(raw)
    if not place.done("evaluation"):
        store.record_evaluation(user.id, module.name, answers, at, idempotency_key=idempotency_key)
        place = advance(store, user, module, place, "evaluation", at)
    award_earned(store, user.id, module, now=at)
    advance(store, user, module, place, "certificate", at)


def _index(value) -> int | None:
    """An option index as a form (a string of digits) or a browser's record (a number) gives it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None

"""Pre- and post-test scoring on the server: browsers get questions without the answer key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from readingroom.curriculum.model import TestQuestion
from readingroom.errors import InputError


@dataclass(frozen=True)
class Score:
    correct: int
    total: int

    @property
    def fraction(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def passed(self, pass_mark: float) -> bool:
        """At or above the mark; compared in whole numbers so 3/4 passes a 0.75 mark exactly."""
        return self.total > 0 and self.correct * 1000 >= round(pass_mark * 1000) * self.total


def public_questions(questions: Sequence[TestQuestion]) -> list[dict[str, Any]]:
    """Questions safe to send to a browser: no answer, nothing derived from it."""
    return [{"id": q.id, "prompt": q.prompt, "options": list(q.options), "case": q.case} for q in questions]


def check_answers(questions: Sequence[TestQuestion], answers: Any) -> dict[str, int]:
    """Answers from a browser as ``{question id: option index}``, or InputError saying which is wrong.

    Every question must be answered once: an unanswered question would otherwise count as
    wrong without the learner noticing.
    """
    if not isinstance(answers, dict):
        raise InputError("answers must be an object of question id to option index")
    by_id = {q.id: q for q in questions}
    unknown = sorted(str(k) for k in set(answers) - set(by_id))
    if unknown:
        raise InputError(f"unknown question id(s): {', '.join(unknown)}")
    for question in questions:
        value = answers.get(question.id)
        if value is None:
            raise InputError(f"question {question.id!r} is unanswered; answer every question before submitting")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(question.options):
            raise InputError(f"question {question.id!r}: choose one of its {len(question.options)} options")
    return {q.id: answers[q.id] for q in questions}


def score(questions: Sequence[TestQuestion], answers: dict[str, int]) -> Score:
    """Correct answers out of all questions; a missing answer counts as wrong."""
    return Score(sum(1 for q in questions if answers.get(q.id) == q.answer), len(questions))

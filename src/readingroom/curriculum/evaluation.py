"""The activity evaluation every module asks before credit: quality, intended change, commercial bias.

Fixed by the package (not per module) because accreditors ask the same three things of
every activity, and answers must compare across activities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from readingroom.errors import InputError

MAX_TEXT = 2000


@dataclass(frozen=True)
class EvaluationQuestion:
    """``options`` for a choice; empty for free text. ``required`` answers must not be blank."""

    id: str
    prompt: str
    options: tuple[str, ...] = ()
    required: bool = True


EVALUATION_QUESTIONS: tuple[EvaluationQuestion, ...] = (
    EvaluationQuestion(
        "quality",
        "Overall, how would you rate the quality of this activity?",
        ("Poor", "Fair", "Good", "Very good", "Excellent"),
    ),
    EvaluationQuestion(
        "objectives-met",
        "Were the stated learning objectives met?",
        ("No", "Partly", "Yes"),
    ),
    EvaluationQuestion(
        "practice-change",
        "What, if anything, will you change in your practice as a result of this activity?",
    ),
    EvaluationQuestion(
        "free-of-bias",
        "Was the content free of commercial bias?",
        ("Yes", "No"),
    ),
    EvaluationQuestion(
        "bias-detail",
        "If you saw commercial bias, describe it.",
        required=False,
    ),
)


def check_evaluation(answers: Any) -> dict[str, Any]:
    """Validated answers (option index or trimmed text by question id), or InputError naming the question."""
    if not isinstance(answers, dict):
        raise InputError("evaluation: answers must be an object keyed by question id")
    known = {q.id: q for q in EVALUATION_QUESTIONS}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise InputError(f"evaluation: unknown question(s) {', '.join(map(str, unknown))}")
    checked: dict[str, Any] = {}
    for question in EVALUATION_QUESTIONS:
        value = answers.get(question.id)
        if question.options:
            if value is None and not question.required:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(question.options):
                raise InputError(f"evaluation: {question.id}: choose one of the {len(question.options)} options")
            checked[question.id] = value
            continue
        text = value.strip() if isinstance(value, str) else ""
        if len(text) > MAX_TEXT:
            raise InputError(f"evaluation: {question.id}: keep the answer under {MAX_TEXT} characters")
        if question.required and not text:
            raise InputError(f"evaluation: {question.id}: please answer \u201c{question.prompt}\u201d")
        if text:
            checked[question.id] = text
    return checked

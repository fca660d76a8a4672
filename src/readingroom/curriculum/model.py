"""A curriculum module as typed, frozen values; built only by ``loader``, so every one is valid."""

from __future__ import annotations

from dataclasses import dataclass

from readingroom.curriculum.evaluation import EVALUATION_QUESTIONS, EvaluationQuestion

DEFAULT_PASS_MARK = 0.75
DEFAULT_POST_TEST_ATTEMPTS = 3  # a test retaken until passed by elimination measures nothing
AMA_CREDIT = "AMA PRA Category 1 Credit"
LIVE = "live"
SELF_STUDY = "self-study"
FORMATS = (LIVE, SELF_STUDY)


@dataclass(frozen=True)
class TestQuestion:
    """A single-best-answer question; ``answer`` (index into ``options``) never leaves the server."""

    __test__ = False  # not a pytest class despite the name

    id: str
    prompt: str
    options: tuple[str, ...]
    answer: int
    case: str | None = None


@dataclass(frozen=True)
class Faculty:
    name: str
    role: str
    disclosure: str


@dataclass(frozen=True)
class CreditDesignation:
    """Maximum credit in hours (quarter-hour steps) and the designation statement for self-study."""

    max_credits: float
    credit_type: str
    statement: str

    @property
    def max_quarter_hours(self) -> int:
        return round(self.max_credits * 4)


@dataclass(frozen=True)
class Module:
    name: str
    title: str
    audience: str
    practice_gap: str
    objectives: tuple[str, ...]
    cases: tuple[str, ...]
    pre_test: tuple[TestQuestion, ...]
    post_test: tuple[TestQuestion, ...]
    pass_mark: float
    credit: CreditDesignation
    faculty: tuple[Faculty, ...]
    minutes: int
    provider: str
    post_test_attempts: int = DEFAULT_POST_TEST_ATTEMPTS

    @property
    def evaluation(self) -> tuple[EvaluationQuestion, ...]:
        """The same evaluation for every module, so answers compare across activities."""
        return EVALUATION_QUESTIONS

    def statement(self, activity_format: str) -> str:
        """The designation statement for a live activity or for the enduring (self-study) material."""
        return designation_statement(self.provider, self.credit.max_credits, activity_format)


def designation_statement(provider: str, max_credits: float, activity_format: str) -> str:
    """The AMA's standard wording, e.g. for a certificate of a live session."""
    if activity_format not in FORMATS:
        raise ValueError(f"curriculum: format must be one of {FORMATS}, got {activity_format!r}")
    activity = "live activity" if activity_format == LIVE else "enduring material"
    return (
        f"{provider} designates this {activity} for a maximum of {credit_phrase(max_credits)}. "
        "Physicians should claim only the credit commensurate with the extent of their participation in the activity."
    )


def credit_phrase(hours: float, credit_type: str = AMA_CREDIT) -> str:
    """E.g. "0.75 AMA PRA Category 1 Credits\u2122", singular for exactly one credit."""
    return f"{credits_text(hours)} {credit_type}{'' if hours == 1 else 's'}\u2122"


def credits_text(hours: float) -> str:
    """Credit as boards print it: 0.25, 0.5, 0.75, 1.0, 1.25 ..."""
    text = f"{hours:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text

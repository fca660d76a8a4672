"""Curriculum modules: self-study and live CME activities over teaching cases.

A module is ``curriculum/<name>.yaml`` (schema: ``module.schema.json``). Public API:

- ``load_module(path, *, cases_root=None) -> Module`` (InputError: one line naming file, field, fix);
  ``find_modules(folder, *, cases_root=None) -> list[Module]``; ``module_problems(path, *, cases_root=None)``
  lists every problem for ``readingroom check``.
- ``Module``: name, title, audience, practice_gap, objectives, cases, pre_test, post_test, pass_mark,
  credit (``CreditDesignation``: max_credits, credit_type, statement, max_quarter_hours), faculty
  (``Faculty``: name, role, disclosure), minutes, provider, evaluation (``EVALUATION_QUESTIONS``),
  ``statement(format)``; ``TestQuestion``: id, prompt, options, answer (server only), case.
- ``public_questions(questions)``, ``check_answers(questions, answers)``, ``score(questions, answers) -> Score``.
- ``check_evaluation(answers)`` validates the fixed evaluation.
- Credit: ``quarter_hours(minutes, max_credits)``, ``live_credit(store, session_id, participant_id, module)``,
  ``self_study_credit(progress, module)``, ``missing_conditions(store, participant_id, module)``,
  ``award(store, participant_id, module, *, now, session_id=None) -> Certificate`` (``CreditNotEarned``).
- ``certificate_pdf(certificate, participant, module, verify_url, *, pagesize="letter") -> bytes``.
"""

from readingroom.curriculum.certificate import certificate_pdf
from readingroom.curriculum.credit import (
    CreditNotEarned,
    award,
    award_earned,
    live_credit,
    missing_conditions,
    quarter_hours,
    self_study_credit,
)
from readingroom.curriculum.evaluation import EVALUATION_QUESTIONS, EvaluationQuestion, check_evaluation
from readingroom.curriculum.loader import find_modules, load_module, module_problems
from readingroom.curriculum.model import (
    AMA_CREDIT,
    DEFAULT_PASS_MARK,
    FORMATS,
    LIVE,
    SELF_STUDY,
    CreditDesignation,
    Faculty,
    Module,
    TestQuestion,
    credit_phrase,
    credits_text,
    designation_statement,
)
from readingroom.curriculum.scoring import Score, check_answers, public_questions, score

__all__ = [
    "AMA_CREDIT",
    "DEFAULT_PASS_MARK",
    "EVALUATION_QUESTIONS",
    "FORMATS",
    "LIVE",
    "SELF_STUDY",
    "CreditDesignation",
    "CreditNotEarned",
    "EvaluationQuestion",
    "Faculty",
    "Module",
    "Score",
    "TestQuestion",
    "award",
    "award_earned",
    "certificate_pdf",
    "check_answers",
    "check_evaluation",
    "credit_phrase",
    "credits_text",
    "designation_statement",
    "find_modules",
    "live_credit",
    "load_module",
    "missing_conditions",
    "module_problems",
    "public_questions",
    "quarter_hours",
    "score",
    "self_study_credit",
]

"""Tests are scored on the server; browsers never see the key; bad submissions are refused by name."""

from __future__ import annotations

import pytest

from readingroom.curriculum import TestQuestion, check_answers, check_evaluation, public_questions, score
from readingroom.errors import InputError

QUESTIONS = [TestQuestion(f"q{i}", f"Question {i}?", ("A", "B", "C"), answer=i % 3) for i in range(4)]  # key: 0 1 2 0
RIGHT = {"q0": 0, "q1": 1, "q2": 2, "q3": 0}


def test_public_questions_hold_no_answer():
    public = public_questions(QUESTIONS)
    assert public[1] == {"id": "q1", "prompt": "Question 1?", "options": ["A", "B", "C"], "case": None}
    assert all("answer" not in q for q in public)


@pytest.mark.parametrize(
    "answers, correct, passes",
    [
        (RIGHT, 4, True),
        ({**RIGHT, "q3": 1}, 3, True),  # exactly 75 % passes a 75 % mark
        ({**RIGHT, "q3": 1, "q2": 0}, 2, False),
        ({"q0": 0}, 1, False),  # unanswered questions count as wrong
    ],
)
def test_score_against_the_pass_mark(answers, correct, passes):
    result = score(QUESTIONS, answers)
    assert (result.correct, result.total) == (correct, 4)
    assert result.fraction == correct / 4
    assert result.passed(0.75) is passes


def test_pass_mark_is_respected_above_75():
    assert not score(QUESTIONS, {**RIGHT, "q3": 1}).passed(0.8)


@pytest.mark.parametrize(
    "answers, message",
    [
        ({**RIGHT, "q9": 1}, "unknown question id"),
        ({"q0": 0, "q1": 1, "q2": 2}, "'q3' is unanswered"),
        ({**RIGHT, "q1": 3}, "'q1': choose one of its 3 options"),
        ({**RIGHT, "q1": True}, "'q1': choose one of its 3 options"),
        ({**RIGHT, "q1": "1"}, "'q1': choose one of its 3 options"),
        (["q0"], "answers must be an object"),
    ],
)
def test_bad_submissions_are_refused(answers, message):
    with pytest.raises(InputError, match=message):
        check_answers(QUESTIONS, answers)


def test_good_submission_passes_through():
    assert check_answers(QUESTIONS, RIGHT) == RIGHT


class TestEvaluation:
    GOOD = {"quality": 3, "objectives-met": 2, "practice-change": "  Refer earlier  ", "free-of-bias": 0}

    def test_valid_answers_are_trimmed(self):
        assert check_evaluation(self.GOOD) == {**self.GOOD, "practice-change": "Refer earlier"}

    @pytest.mark.parametrize(
        "change, message",
        [
            ({"quality": 5}, "quality: choose one of the 5 options"),
            ({"free-of-bias": None}, "free-of-bias: choose one of the 2 options"),
            ({"practice-change": "   "}, "practice-change: please answer"),
            ({"practice-change": "x" * 2001}, "under 2000 characters"),
            ({"colour": 1}, "unknown question"),
        ],
    )
    def test_each_problem_named(self, change, message):
        with pytest.raises(InputError, match=message):
            check_evaluation({**self.GOOD, **change})

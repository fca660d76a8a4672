"""A question's answer key and how an answer is scored against it, in plain Python.

Two places score answers: the kernel behind a :class:`~readingroom.widgets.Question`
(JupyterLab, Voila) and the serving app for case pages that need no kernel
(:mod:`readingroom.server.case_pages`). Both use :class:`AnswerKey`, so feedback,
attempts and what is revealed when cannot drift apart. The key never reaches a page
before the answer is settled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from readingroom.errors import InputError

KINDS = ("single", "multiple", "free_text", "locate")
MAX_TEXT = 20_000  # characters of free text accepted


@dataclass(frozen=True)
class AnswerKey:
    """What a question knows that the learner must not see until the question is settled."""

    kind: str
    option_count: int = 0
    key: object = None  # single: index; multiple: frozenset; locate: region dict; free_text: None
    feedback: dict[int, str] = field(default_factory=dict)
    explanation: str = ""
    model_answer: str = ""
    attempts: int = 2  # 0: any number

    def checked(self, choice):
        """``choice`` in canonical form, or InputError saying what a valid answer looks like."""
        n = self.option_count
        if self.kind == "single":
            if isinstance(choice, bool) or not isinstance(choice, int) or not 0 <= choice < n:
                raise InputError(f"a single-choice answer is one option index 0-{n - 1}, got {choice!r}")
            return choice
        if self.kind == "multiple":
            if not isinstance(choice, (list, tuple, set, frozenset)) or not all(
                    isinstance(c, int) and not isinstance(c, bool) and 0 <= c < n for c in choice):
                raise InputError(f"a multiple-choice answer is a list of option indices 0-{n - 1}, got {choice!r}")
            return sorted(set(choice))
        if self.kind == "free_text":
            if not isinstance(choice, str):
                raise InputError(f"a free-text answer is a string, got {type(choice).__name__}")
            return choice[:MAX_TEXT]
        try:
            frame, x, y = int(choice["frame"]), float(choice["x"]), float(choice["y"])
        except (TypeError, KeyError, ValueError):
            raise InputError(f'a locate answer is {{"frame": k, "x": x, "y": y}} in image pixels, got {choice!r}') from None
        return {"frame": frame, "x": x, "y": y}

    def result(self, choice, attempts_used: int) -> dict:
        """The result shown after the learner's ``attempts_used``-th answer (counting this one).

        ``final`` once correct, answered, or out of attempts; only then does it carry the
        answer and the explanation.
        """
        state, extra = self._score(choice)
        final = state != "incorrect" or (self.attempts > 0 and attempts_used >= self.attempts)
        result = {"state": state, "final": final, **extra}
        if self.attempts > 0 and self.kind != "free_text":
            result["attempts_left"] = max(self.attempts - attempts_used, 0)
        if final:
            result.update(self._revealed())
        return result

    def _score(self, choice) -> tuple[str, dict]:
        if self.kind == "free_text":
            return "answered", {}
        if self.kind == "locate":
            r = self.key
            dx = (choice["x"] - r["center"][0]) / r["radius"][0]
            dy = (choice["y"] - r["center"][1]) / r["radius"][1]
            hit = choice["frame"] == r["frame"] and dx * dx + dy * dy <= 1.0
            extra = {"hit": hit}
            if choice["frame"] != r["frame"]:
                extra["hint"] = "The finding is not on this image: scroll the viewer to find it."
            return ("correct" if hit else "incorrect"), extra
        chosen = [choice] if self.kind == "single" else choice
        ok = choice == self.key if self.kind == "single" else frozenset(choice) == self.key
        feedback = {str(i): self.feedback[i] for i in chosen if i in self.feedback}
        return ("correct" if ok else "incorrect"), {"feedback": feedback}

    def explained(self) -> dict:
        """What a settled question shows, with the feedback on every option: a static page picks the chosen."""
        return {**self._revealed(), "feedback": {str(k): v for k, v in self.feedback.items()}}

    def _revealed(self) -> dict:
        out = {"explanation": self.explanation} if self.explanation else {}
        if self.kind == "single":
            out["answer"] = [self.key]
        elif self.kind == "multiple":
            out["answer"] = sorted(self.key)
        elif self.kind == "free_text":
            out["model_answer"] = self.model_answer
        else:
            out["region"] = dict(self.key)
        return out

    def to_json(self) -> dict:
        key = sorted(self.key) if self.kind == "multiple" else self.key
        return {"kind": self.kind, "option_count": self.option_count, "key": key,
                "feedback": {str(k): v for k, v in self.feedback.items()}, "explanation": self.explanation,
                "model_answer": self.model_answer, "attempts": self.attempts}

    @classmethod
    def from_json(cls, data: dict) -> AnswerKey:
        key = frozenset(data["key"]) if data["kind"] == "multiple" else data["key"]
        return cls(data["kind"], int(data["option_count"]), key, {int(k): v for k, v in data["feedback"].items()},
                   data["explanation"], data["model_answer"], int(data["attempts"]))

"""The module pages: the list, one module's steps, and the POSTs that record each step.

Every answer is scored here against the module's key, which never leaves the server;
the browser gets questions from :func:`public_questions` only. Records get answers and
times, never patient data.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

from tornado import web

from readingroom.curriculum import Module, credits_text, public_questions
from readingroom.errors import InputError
from readingroom.records import Participant, TestKind
from readingroom.server.learning import progress
from readingroom.server.learning.base import LearningHandler
from readingroom.server.learning.certificates import credit_line
from readingroom.server.learning.steps import Standing


def _now() -> datetime:
    return datetime.now(UTC)


def _percent(value: float) -> int:
    return round(value * 100)


class ModuleHandler(LearningHandler):
    """Base for ``/modules/<name>...``: the module, the signed-in participant and where they stand."""

    def initialize(self, modules: dict[str, Module], **common) -> None:
        super().initialize(**common)
        self.modules = modules

    def module(self, name: str) -> Module:
        module = self.modules.get(name)
        if module is None:
            raise web.HTTPError(404, "No such module.")
        return module

    def standing(self, user: Participant, module: Module) -> Standing:
        return progress.standing(self.store, user, module, _now())

    def advance(self, user: Participant, module: Module, standing: Standing, key: str) -> None:
        progress.advance(self.store, user, module, standing, key, _now())

    def step(self, action, *args, **kwargs) -> None:
        """One of :mod:`.progress`'s steps; a step refused is an HTTP error saying why."""
        try:
            action(self.store, *args, _now(), **kwargs)
        except progress.StepRefused as refused:
            raise web.HTTPError(refused.status, refused.message) from None

    def back_to(self, module: Module) -> None:
        self.redirect(f"{self.base}modules/{module.name}")

    def render_module(self, user: Participant, module: Module, *, status: int = 200, **problems: str) -> None:
        """The module page: facts, disclosures, then each step as done, current or later."""
        progress = self.store.start_module(user.id, module.name, _now())
        standing = Standing.of(module, progress.position)
        pre = self.store.test_attempts(user.id, module.name, TestKind.PRE)
        post = self.store.test_attempts(user.id, module.name, TestKind.POST)
        certificates = self.store.certificates(user.id, module.name)
        self.render_page(
            "module.html", status=status, module=module, view=standing,
            designation=module.credit.statement, pass_percent=_percent(module.pass_mark),
            pre_questions=public_questions(module.pre_test), post_questions=public_questions(module.post_test),
            pre_score=pre[-1] if pre else None, post_score=post[-1] if post else None,
            post_percent=_percent(post[-1].correct / post[-1].total) if post else None,
            post_attempts_left=max(module.post_test_attempts - len(post), 0),
            minutes=int(progress.seconds_on_task // 60),
            certificates=[(c, credit_line(c)) for c in certificates],
            evaluation_error=problems.get("evaluation_error"), credit_refused=problems.get("credit_refused"),
        )


class ModuleListHandler(ModuleHandler):
    """GET ``/modules``: every module, with the signed-in participant's progress in each."""

    def get(self) -> None:
        user = self.require_user()
        items = []
        for module in self.modules.values():
            progress = self.store.module_progress(user.id, module.name)
            total = len(Standing.of(module, 0).keys)
            done = None if progress is None else f"{min(progress.position, total)} of {total} steps done"
            items.append({"module": module, "credits": credits_text(module.credit.max_credits), "progress": done})
        self.render_page("modules.html", modules=items)


class ModulePageHandler(ModuleHandler):
    """GET ``/modules/<name>``: the module page, resuming at the saved step."""

    def get(self, name: str) -> None:
        self.render_module(self.require_user(), self.module(name))


class DisclosuresHandler(ModuleHandler):
    """POST: the participant acknowledged the faculty disclosures, which the page shows before any content."""

    def post(self, name: str) -> None:
        user, module = self.require_user(), self.module(name)
        standing = self.standing(user, module)
        self.store.record_disclosures_seen(user.id, module.name, _now())
        self.advance(user, module, standing, "disclosures")
        self.back_to(module)


class TestHandler(ModuleHandler):
    """POST ``tests/pre`` or ``tests/post``: scored here; a failed post-test shows the score and may be
    retaken, up to the module's ``post_test_attempts`` (counted from the records, not the page)."""

    def post(self, name: str, kind: str) -> None:
        user, module = self.require_user(), self.module(name)
        questions = module.pre_test if kind == "pre" else module.post_test
        raw = {q.id: self.get_body_argument(q.id, "") for q in questions}
        self.step(progress.take_test, user, module, kind, raw)
        self.back_to(module)


class CaseOpenHandler(ModuleHandler):
    """GET ``cases/<id>``: the case counts as opened, then the case page opens in the same tab."""

    def get(self, name: str, case_id: str) -> None:
        user, module = self.require_user(), self.module(name)
        self.step(progress.open_case, user, module, case_id)
        # ?module= makes the case page count time on task for this module (time_on_task.js).
        self.redirect(f"{self.base}cases/{case_id}/?{urllib.parse.urlencode({'module': module.name})}")


class HeartbeatHandler(ModuleHandler):
    """POST from time_on_task.js while a module or case page is visible and in use.

    The store adds the time since the last beat (capped); ``resumed=1`` restarts the clock
    after the page was hidden or idle, so time away never counts.
    """

    def post(self, name: str) -> None:
        module = self.module(name)
        user = self.current_user
        if user is None:
            raise web.HTTPError(403, "Sign in to record time on task.")
        resumed = self.get_body_argument("resumed", "0") == "1"
        self.store.record_heartbeat(user.id, module.name, _now(), resumed=resumed)
        self.set_status(204)
        self.finish()


class EvaluationHandler(ModuleHandler):
    """POST: the evaluation (quality, intended change, commercial bias); then credit is awarded if earned."""

    def post(self, name: str) -> None:
        from readingroom.curriculum import CreditNotEarned

        user, module = self.require_user(), self.module(name)
        try:
            self.step(progress.submit_evaluation, user, module, self._answers(module))
        except InputError as error:
            self.render_module(user, module, status=400, evaluation_error=str(error).removeprefix("evaluation: "))
            return
        except CreditNotEarned as refused:
            self.render_module(user, module, status=409, credit_refused=str(refused))
            return
        self.back_to(module)

    def _answers(self, module: Module) -> dict:
        answers: dict = {}
        for question in module.evaluation:
            value = self.field(question.id, 2000, required=False)
            if value:
                answers[question.id] = int(value) if question.options and value.isdigit() else value
        return answers

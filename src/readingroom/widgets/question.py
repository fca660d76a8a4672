"""``Question``: single/multiple choice, free text and "locate the finding", scored in the kernel.

The answer key (correct options, per-option feedback, explanation, model answer,
the author's region) lives only in private Python attributes, never in a synced
trait: the browser sends the learner's choice, the kernel scores it and sets
``result``, and only then does the feedback (and, once the question is settled,
the answer) reach the page. On a served case page, which has no kernel, the serving
app scores instead, with the same key read out of the one run of the case
(:mod:`readingroom.widgets.page_export`, :mod:`readingroom.server.case_pages`).
"""

from __future__ import annotations

import base64
import html
import io
import weakref
from dataclasses import replace
from typing import Callable

import anywidget
import traitlets as t

from readingroom.errors import InputError
from readingroom.widgets.answers import KINDS, AnswerKey
from readingroom.widgets.assets import loader_source, module_sources

MODULE = "question.js"
_MAX_SIDE = 1024  # longest side of the PNG shown for a locate question
_LIVE: weakref.WeakValueDictionary[str, Question] = weakref.WeakValueDictionary()  # by model id


class Question(anywidget.AnyWidget):
    """A question a learner answers in the page and the kernel scores.

    Build one with :meth:`single`, :meth:`multiple`, :meth:`free_text` or :meth:`locate`.
    ``result`` is empty until the learner answers; then it holds ``state``
    (``correct``, ``incorrect`` or ``answered``), the feedback for the options they
    chose, and, once the question is settled (correct, or no attempts left), the
    answer and the explanation.
    """

    _esm = t.Unicode(loader_source(MODULE)).tag(sync=True)

    kind = t.Unicode("single", help="single, multiple, free_text or locate.").tag(sync=True)
    prompt = t.Unicode("").tag(sync=True)
    options = t.List(t.Unicode(), help="Choices shown for single/multiple questions.").tag(sync=True)
    attempts = t.Int(2, help="Tries allowed for choice and locate questions; 0 allows any number.").tag(sync=True)
    attempts_used = t.Int(0).tag(sync=True)
    response = t.Any(None, allow_none=True, help="The learner's last submitted answer.").tag(sync=True)
    result = t.Dict(help="Empty until answered; then the scored result shown to the learner.").tag(sync=True)

    _image = t.Bytes(b"").tag(sync=True)  # locate: PNG of the shown frame
    _image_info = t.Dict().tag(sync=True)  # locate: {"frame", "width", "height"} in image pixels

    def __init__(self, kind: str, prompt: str, *, options=(), attempts: int = 2, viewer=None,
                 key=None, feedback=None, explanation: str = "", model_answer: str = "", **kwargs) -> None:
        if kind not in KINDS:
            raise InputError(f"Question kind must be one of {', '.join(KINDS)}, got {kind!r}")
        super().__init__(kind=kind, prompt=str(prompt), options=[str(o) for o in options],
                         attempts=int(attempts), **kwargs)
        # The key: a private attribute only, never a trait.
        self._answer = AnswerKey(kind, len(self.options), key, {int(k): str(v) for k, v in (feedback or {}).items()},
                                 str(explanation or ""), str(model_answer or ""), int(attempts))
        _LIVE[self.model_id] = self
        self._viewer = viewer
        self._callbacks: list[Callable] = []
        if viewer is not None:
            viewer.observe(self._viewer_changed, names=["frame", "window", "series", "invert"])
            self._show_viewer_frame()
        self.on_msg(self._on_custom_message)

    # ---- the four kinds ----
    @classmethod
    def single(cls, prompt: str, options, answer: int, *, feedback=None, explanation: str = "",
               attempts: int = 2, **kwargs) -> "Question":
        """One correct option, ``answer`` (0-based); ``feedback`` maps option index to text."""
        options = _options(options, 2)
        answer = _index(answer, options)
        return cls("single", prompt, options=options, key=answer, feedback=_feedback(feedback, options),
                   explanation=explanation, attempts=attempts, **kwargs)

    @classmethod
    def multiple(cls, prompt: str, options, answers, *, feedback=None, explanation: str = "",
                 attempts: int = 2, **kwargs) -> "Question":
        """Any number of correct options (the set ``answers``); correct only when exactly those are chosen."""
        options = _options(options, 2)
        try:
            key = frozenset(_index(a, options) for a in answers)
        except TypeError:
            raise InputError(f"answers must be a collection of option indices, got {answers!r}") from None
        return cls("multiple", prompt, options=options, key=key, feedback=_feedback(feedback, options),
                   explanation=explanation, attempts=attempts, **kwargs)

    @classmethod
    def free_text(cls, prompt: str, model_answer: str = "", *, explanation: str = "", **kwargs) -> "Question":
        """The learner writes an answer; the model answer is shown once they submit."""
        return cls("free_text", prompt, model_answer=model_answer, explanation=explanation, attempts=1, **kwargs)

    @classmethod
    def locate(cls, prompt: str, viewer, region: dict, *, explanation: str = "", attempts: int = 2,
               **kwargs) -> "Question":
        """Click the finding on the viewer's current frame; a hit is inside ``region``.

        ``region`` is ``{"frame": k, "center": [x, y], "radius": [rx, ry]}`` in image
        pixels of the viewer's current series (an ellipse on frame ``k``).
        """
        if viewer is None or not hasattr(viewer, "current_series"):
            raise InputError("a locate question needs the Viewer whose image the learner clicks")
        return cls("locate", prompt, viewer=viewer, key=_region(region, viewer),
                   explanation=explanation, attempts=attempts, **kwargs)

    # ---- answering ----
    @property
    def settled(self) -> bool:
        """True once nothing more can change: correct, answered, or no attempts left."""
        return bool(self.result.get("final"))

    @property
    def correct(self) -> bool | None:
        """Whether the last answer was correct (None before answering, and for free text)."""
        state = self.result.get("state")
        return None if state in (None, "answered") else state == "correct"

    @property
    def viewer(self):
        """The Viewer a locate question shows (its image follows that viewer), or None."""
        return self._viewer

    def answer_key(self) -> AnswerKey:
        """The key as it stands (``attempts`` may have changed since creation); never synced to the page."""
        return replace(self._answer, attempts=self.attempts)

    def on_answer(self, callback: Callable[["Question", dict], None]) -> None:
        """Call ``callback(question, result)`` after each scored answer (e.g. to record progress)."""
        self._callbacks.append(callback)

    def submit(self, choice) -> dict:
        """Score ``choice`` as if the learner had sent it and show the result; returns ``result``."""
        if self.settled:
            raise InputError("this question has been answered; call reset() to ask it again")
        if self.result:
            raise InputError("retry first: the last answer is still shown")
        answer = self.answer_key()
        choice = answer.checked(choice)
        self.attempts_used += 1
        result = answer.result(choice, self.attempts_used)
        if result["final"] and self.kind == "locate":
            self._show_frame(answer.key["frame"])
        with self.hold_sync():
            self.response = choice
            self.result = result
        for callback in self._callbacks:
            callback(self, result)
        return result

    def retry(self) -> None:
        """Clear a wrong answer so the learner can try again (while attempts remain)."""
        if self.result and not self.settled:
            with self.hold_sync():
                self.result = {}
                self.response = None
        if self._viewer is not None:
            self._show_viewer_frame()

    def reset(self) -> None:
        """Ask the question afresh: no answer, all attempts available."""
        with self.hold_sync():
            self.result = {}
            self.response = None
            self.attempts_used = 0
        if self._viewer is not None:
            self._show_viewer_frame()

    def _on_custom_message(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "modules":  # the comm fallback of the shared loader (widgets/loader.js)
            self.send({"type": "modules", "sources": module_sources()})
        elif kind == "answer":
            try:
                self.submit(content.get("choice"))
            except InputError as error:
                self.send({"type": "error", "message": str(error)})
        elif kind == "retry":
            self.retry()

    # ---- locate: the viewer's frame as a PNG in the question's own canvas ----
    def _viewer_changed(self, _change) -> None:
        if not self.result:
            self._show_viewer_frame()

    def _show_viewer_frame(self) -> None:
        self._show_frame(self._viewer.frame)

    def _show_frame(self, frame: int) -> None:
        from PIL import Image

        from readingroom.dicom import render_frame

        viewer = self._viewer
        series = viewer.current_series
        display = render_frame(series.frames[frame], None if series.is_color else tuple(viewer.window))
        if viewer.invert and display.ndim == 2:
            display = 255 - display
        image = Image.fromarray(display)
        width, height = image.size
        image.thumbnail((_MAX_SIDE, _MAX_SIDE))
        out = io.BytesIO()
        image.save(out, format="PNG")
        with self.hold_sync():
            self._image = out.getvalue()
            self._image_info = {"frame": int(frame), "width": width, "height": height}

    # ---- static output ----
    def to_html(self) -> str:
        """Prompt and options as HTML, never the answer (for nbconvert and static pages)."""
        parts = [f'<div class="rr-question-static" data-kind="{self.kind}">',
                 f"<p><strong>Question.</strong> {html.escape(self.prompt)}</p>"]
        if self.options:
            tag = "ol" if self.kind == "single" else "ul"
            parts.append(f"<{tag}>" + "".join(f"<li>{html.escape(o)}</li>" for o in self.options) + f"</{tag}>")
        if self.kind == "multiple":
            parts.append("<p><em>Choose all that apply.</em></p>")
        if self.kind == "locate" and self._image:
            src = base64.b64encode(self._image).decode("ascii")
            parts.append(f'<img alt="Image for this question" src="data:image/png;base64,{src}" style="max-width:384px">')
        parts.append("</div>")
        return "".join(parts)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/html"] = self.to_html()
        data["text/plain"] = f"Question: {self.prompt}" + "".join(f"\n  - {o}" for o in self.options)
        return bundle

    def __repr__(self) -> str:
        return f"Question.{self.kind}({self.prompt!r})"


def live_questions() -> dict[str, Question]:
    """The questions this kernel holds, by widget model id."""
    return dict(_LIVE)


def _options(options, minimum: int) -> list[str]:
    if isinstance(options, str) or not hasattr(options, "__iter__"):
        raise InputError(f"options must be a list of strings, got {options!r}")
    options = [str(o) for o in options]
    if len(options) < minimum:
        raise InputError(f"a choice question needs at least {minimum} options, got {len(options)}")
    return options


def _index(value, options) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(options):
        raise InputError(f"an answer is an option index 0-{len(options) - 1}, got {value!r}")
    return value


def _feedback(feedback, options) -> dict[int, str]:
    feedback = dict(feedback or {})
    for k in feedback:
        _index(k, options)
    return feedback


def _region(region, viewer) -> dict:
    try:
        frame = int(region["frame"])
        cx, cy = (float(v) for v in region["center"])
        rx, ry = (float(v) for v in region["radius"])
    except (TypeError, KeyError, ValueError):
        raise InputError('region must be {"frame": k, "center": [x, y], "radius": [rx, ry]} in image pixels, '
                         f"got {region!r}") from None
    count = viewer.current_series.frame_count
    if not 0 <= frame < count:
        raise InputError(f"region frame {frame} is outside the viewer's frames 0-{count - 1}")
    if not (rx > 0 and ry > 0):
        raise InputError(f"region radius must be positive, got {[rx, ry]}")
    return {"frame": frame, "center": [cx, cy], "radius": [rx, ry]}


__all__ = ["Question", "loader_source"]


"""Case pages with no kernel per visitor: each case is run once, its widgets' state goes in the page.

A teaching case is the same document for every reader. Rendering it through Voila for
each visitor costs a kernel (about 120 MB) per open page and about 1.3 MB of Voila's
front end, 7 s at 1.5 Mbit/s before the first image (benchmarks/README.md). Here a
case is executed once per case version with nbclient, as Voila would (:mod:`.case_run`),
and its widgets are read out after each reveal stage. The page is the unknown view's
cells as HTML plus each widget's state as it was then, mounted by ``case_page.js`` with
the same widget modules the kernel hosts load; each later stage, once revealed, brings
its cells, its own widgets and what its cells changed in earlier ones (the arrow on the
finding), so a revealed viewer can be scrolled too. The viewer needs no kernel; a
question's answer key is read from the same kernel run and kept here, on the server,
which scores answers (:class:`~readingroom.widgets.answers.AnswerKey`).

A notebook whose unknown view uses any widget this page cannot mount (an ipywidgets
slider driving a plot, say) is *live*: Voila serves it with a kernel, as before, and its
later stages come from the same run with their widgets as pictures. In a later stage of
a page without a kernel, such a widget shows as its picture too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jinja2
import nbformat

from readingroom.case.roles import stages
from readingroom.server.case_run import CaseRunError, CaseRunner
from readingroom.server.catalog import Card
from readingroom.server.stages import STAGES_KEY, stage_html, unknown_view
from readingroom.widgets.answers import AnswerKey
from readingroom.widgets.assets import modules_version

OUR_WIDGETS = {"readingroom.widgets.viewer.Viewer": "viewer.js", "readingroom.widgets.question.Question": "question.js",
               "readingroom.widgets.viewer.SliceLink": "link.js"}
LAYOUT_WIDGETS = {"HBoxModel": "hbox", "VBoxModel": "vbox", "LinkModel": "jslink"}
_HOST_KEYS = {"_esm", "_css", "_anywidget_id", "_dom_classes", "layout", "tabbable", "tooltip"}
PAGE_BASE = "../../"  # a case page is at <site>/cases/<id>/, served or built: its links and fetches are relative
RUN_TIMEOUT = 300  # seconds a case cell may run (encoding a large series the first time)
RETRY_FAILED_AFTER = 60  # seconds a failed run is reported before the next visitor's request runs it again


@dataclass(frozen=True)
class LaterStage:
    """A stage after the unknown, from the case's one run; it leaves the server only when revealed."""

    html: str
    widgets: dict = field(default_factory=dict)  # the widgets it adds to the page
    updates: dict = field(default_factory=dict)  # what its cells changed in earlier ones: {model_id: {key: value}}
    drawn: dict | None = None  # the first viewer's {"series", "annotations"} by then, for a conference's view
    pictures_html: str = ""  # its widgets as pictures of the run's view, for a conference's participants

    def for_page(self) -> dict:
        return {"html": self.html, "widgets": self.widgets, "updates": self.updates}


@dataclass(frozen=True)
class CasePage:
    """One case version, run once: the page's HTML and its questions' keys, or why Voila must serve it."""

    html: str = ""  # for a live case, its page without a kernel
    later_stages: tuple[LaterStage, ...] = ()  # stage k at k - 1
    keys: dict[str, AnswerKey] = field(default_factory=dict)
    widgets: dict = field(default_factory=dict)  # the unknown view's, as in the page (what a saved copy's frames are)
    live_reason: str = ""  # non-empty: the notebook needs a kernel per visitor
    error: str = ""
    made_at: float = field(default_factory=time.monotonic)


def page_widgets(state: dict, extras: dict[str, dict], *, leave_out_unmountable: bool = False) -> tuple[dict, str]:
    """The page's widget entries from the kernel's widget state, or ({}, why one cannot be mounted here).

    ``extras`` come from the run's kernel (:mod:`readingroom.widgets.page_export`): a viewer's
    ``manifests`` (all its series; the page picks ``_manifest`` from them, so it is sent once),
    a locate question's ``viewer``. ``leave_out_unmountable`` skips what cannot be mounted
    (a later stage shows it as its saved picture) instead of refusing the lot.
    """
    entries = {}
    for model_id, saved in state.items():
        name, values = saved.get("model_name", ""), saved.get("state", {})
        if name == "AnyModel" and values.get("_anywidget_id") in OUR_WIDGETS:
            module = OUR_WIDGETS[values["_anywidget_id"]]
        elif name in LAYOUT_WIDGETS:
            module = LAYOUT_WIDGETS[name]
        elif name == "LayoutModel" or name.endswith("StyleModel"):
            continue
        elif leave_out_unmountable:
            continue
        else:
            return {}, f"it uses a {name} widget, which needs a kernel"
        kept = {k: v for k, v in values.items() if k not in _HOST_KEYS and not k.startswith(("_model_", "_view_"))}
        entries[model_id] = {"module": module, "state": kept, "buffers": saved.get("buffers", []),
                             **extras.get(model_id, {})}
        if "manifests" in entries[model_id]:
            kept.pop("_manifest", None)
    return entries, ""


class CasePages:
    """Every servable case run once per version, one at a time, the first on demand or all ahead."""

    def __init__(self, cases_dir: Path, secret: bytes, environment: jinja2.Environment, log: logging.Logger, on_live: Callable[[Card], None] = lambda card: None,
                 runner: CaseRunner | None = None) -> None:
        self.cases_dir, self.secret, self.environment = cases_dir, secret, environment
        self.log, self.on_live = log, on_live
        self._runs: dict[tuple[str, str], asyncio.Task] = {}
        self._one_at_a_time: asyncio.Semaphore | None = None
        self._runner = runner or CaseRunner()

    def prepare(self, cards: list[Card]) -> None:
        """Run ``cards`` in the background (the server's start-up), so the first reader waits less."""
        asyncio.ensure_future(self._prepare_all(cards))

    async def _prepare_all(self, cards: list[Card]) -> None:
        # One after another, not all queued at once: a reader asking for a case not run yet
        # then waits behind the run in progress only, not behind a whole large catalog.
        for card in cards:
            try:
                await asyncio.shield(self._task(card))
            except Exception:  # noqa: BLE001 - one broken case must not stop the others being prepared
                self.log.exception("readingroom: case %s could not be prepared", card.id)

    def stop(self) -> None:
        """Stop runs still going (the server is stopping): their kernels are shut down, not left behind."""
        self._runner.stop()

    async def page(self, card: Card) -> CasePage:
        return await asyncio.shield(self._task(card))

    def ready(self, card: Card) -> CasePage | None:
        """The page if it has been run already (answers are only scored for pages that exist)."""
        task = self._runs.get((card.slug, card.version))
        return task.result() if task is not None and task.done() and not task.cancelled() else None

    def _task(self, card: Card) -> asyncio.Task:
        key = (card.slug, card.version)
        failed = self.ready(card)
        if failed is not None and failed.error and time.monotonic() - failed.made_at > RETRY_FAILED_AFTER:
            del self._runs[key]  # perhaps the machine was short of memory: try again, now and then
        if key not in self._runs:
            for old in [k for k in self._runs if k[0] == card.slug]:  # an earlier version of the case
                del self._runs[old]
            self._runs[key] = asyncio.ensure_future(self._render(card))
        return self._runs[key]

    async def _render(self, card: Card) -> CasePage:
        if self._one_at_a_time is None:
            self._one_at_a_time = asyncio.Semaphore(1)  # kernels are memory-hungry: one run at a time
        view = unknown_view(card.notebook, case_id=card.id, secret=self.secret, version=card.version, all_stages=True)
        async with self._one_at_a_time:
            started = time.monotonic()
            try:
                ran = await self._runner.run(view, self.cases_dir / card.slug, RUN_TIMEOUT)
            except CaseRunError as error:
                self.log.error("readingroom: case %s cannot be shown: %s", card.id, error)
                return CasePage(error=str(error))
        if ran["failed"]:
            self.log.warning("readingroom: case %s: %s; from there on it shows the outputs saved with it",
                             card.id, ran["failed"])
        run = read_run(card, ran)
        stages_url = f"{PAGE_BASE}readingroom/cases/{card.id}/stages/{{stage}}?key={{key}}"
        first = case_page_html(self.environment, run, stages_url=stages_url,
                               first_key=(run.notebook.metadata[STAGES_KEY]["next"] or {}).get("key"),
                               scoring={"answers": f"{PAGE_BASE}readingroom/cases/{card.id}/answers",
                                        "offline_keys": f"{PAGE_BASE}readingroom/cases/{card.id}/offline-keys.json"},
                               records=f"{PAGE_BASE}readingroom/records")
        if run.live_reason:
            self.log.info("readingroom: case %s is served live by Voila: %s", card.id, run.live_reason)
            self.on_live(card)
        else:
            self.log.info("readingroom: case %s ready, run once in %.1f s", card.id, time.monotonic() - started)
        return CasePage(html=first, later_stages=run.later_stages, keys=run.keys, widgets=run.widgets,
                        live_reason=run.live_reason)


@dataclass(frozen=True)
class CaseRun:
    """What a case's one run gives its page, whoever hosts it (``serve``, ``build``, the nbconvert exporter)."""

    notebook: nbformat.NotebookNode  # every stage's cells, as run, with the unknown view's metadata
    widgets: dict  # the unknown view's widgets, as :func:`page_widgets` gives them (a live case's: those it can mount)
    later_stages: tuple[LaterStage, ...]
    keys: dict[str, AnswerKey]  # every question's, by widget id
    key_stage: dict[str, int]  # the stage each question is first shown in, by widget id
    live_reason: str = ""  # non-empty: the notebook needs a kernel; its page here shows what needs Python as pictures


def read_run(card: Card, ran: dict) -> CaseRun:
    """The page's parts from what :mod:`.case_run` returned for ``card``."""
    notebook, exports = nbformat.from_dict(ran["notebook"]), ran["stages"]
    widgets, live_reason = page_widgets(exports[0]["state"], exports[0]["widgets"])
    later = _later_stages(stages(notebook)[1:], notebook, exports, widgets, saved=card.notebook)
    if live_reason:  # the page without a kernel, for readers waiting for one: what needs Python as pictures
        widgets, _ = page_widgets(exports[0]["state"], exports[0]["widgets"], leave_out_unmountable=True)
    keys, key_stage = {}, {}
    for number, export in enumerate(exports):
        for model_id, spec in export["keys"].items():
            keys[model_id] = AnswerKey.from_json(spec)
            key_stage.setdefault(model_id, number)
    return CaseRun(notebook, widgets, later, keys, key_stage, live_reason)


def case_page_html(environment: jinja2.Environment, run: CaseRun, *, stages_url: str,
                   first_key: str | None, scoring: dict, records: str = "", frame_bundles: bool = True) -> str:
    """The unknown's page: stage 0's cells, a slot for each of its widgets, their state.

    The one renderer of case pages: what ``serve`` sends and ``build`` writes differs only in
    where later stages come from (``stages_url``, a template with ``{stage}`` and ``{key}``,
    and the ``first_key`` that opens stage 1) and how answers are scored (``scoring``: the
    server's ``answers`` URL, or salted answer ``keys`` checked in the page) and where the
    records a learner makes go (``records``: the server's records URL, where answers made
    offline are sent; empty on a static site with no server, which records nothing) and
    whether frames come in bundles (``frame_bundles``: a static host has single files only). Every
    other URL is relative to the page, at ``<site>/cases/<id>/`` in both. A live case's page
    says that its interactive parts are pictures here. Records name a question by its
    place in the case (``questions``), since widget ids differ from one run to the next.
    """
    config = {"widgets": run.widgets, "case": run.notebook.metadata[STAGES_KEY]["case_id"],
              "questions": list(run.keys), **scoring}
    return environment.get_template("case_page.html").render(
        base=PAGE_BASE, records=records, frame_bundles=frame_bundles, version=modules_version(), case=run.notebook.metadata.get("readingroom", {}),
        cells=stage_html(run.notebook, 0, _slots(run.widgets)), reveal=run.notebook.metadata[STAGES_KEY],
        stages_url=stages_url, first_key=first_key, config_json=json.dumps(config).replace("</", "<\\/"),
        without_kernel=bool(run.live_reason))


def question_label(number: int) -> str:
    """How records name a case's question: by its place in the case (the page's ``questions``), as
    widget ids differ from one run to the next (the server's, a static site's)."""
    return f"question-{number + 1}"


def _later_stages(parts: list, notebook: nbformat.NotebookNode, exports: list[dict], widgets: dict,
                  saved: dict) -> tuple[LaterStage, ...]:
    """Each later stage from the run; from a stage that failed on, as the author ``saved`` it."""
    later, shown = [], widgets
    first_viewer = next((k for k, entry in widgets.items() if entry["module"] == "viewer.js"), None)
    for stage in parts:
        if stage.number >= len(exports):
            as_saved = stage_html(saved, stage.number)
            later.append(LaterStage(as_saved, pictures_html=as_saved))
            continue
        export = exports[stage.number]
        entries, _ = page_widgets(export["state"], export["widgets"], leave_out_unmountable=True)
        viewer = entries.get(first_viewer, {}).get("state")
        later.append(LaterStage(
            html=stage_html(notebook, stage.number, _slots(entries)),
            widgets={k: v for k, v in entries.items() if k not in shown},
            updates=_changed_state(shown, entries),
            drawn=viewer and {"series": viewer["series"], "annotations": viewer["annotations"]},
            pictures_html=stage_html(notebook, stage.number)))
        shown = {**shown, **entries}
    return tuple(later)


def _slots(widgets: dict) -> Callable[[str], str | None]:
    """A slot for each widget the page mounts; any other widget shows as its picture (None)."""
    def slot(model_id: str) -> str | None:
        return f'<div class="rr-widget" data-rr-widget="{model_id}"></div>' if model_id in widgets else None

    return slot


def _changed_state(shown: dict, entries: dict) -> dict:
    """What a stage's cells changed in widgets already on the page: {model_id: {key: new value}}."""
    changed = {}
    for model_id, entry in entries.items():
        before = shown.get(model_id)
        if before is not None:
            keys = {k: v for k, v in entry["state"].items() if before["state"].get(k) != v}
            if keys:
                changed[model_id] = keys
    return changed

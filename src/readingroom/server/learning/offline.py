"""A module saved for offline use on ``readingroom serve``: the same service worker and scripts as a static site's.

- ``/sw.js``: the service worker (:mod:`readingroom.build.offline`), at the site's root so it
  answers for every page under it
- ``/readingroom/offline/<module>.json``: what "Save for offline" stores for a module: the module
  page, its cases' pages, every later stage (by its key), their frames and the scripts
- ``/readingroom/cases/<id>/offline-keys.json``: the case's questions as salted hashes
  (:mod:`readingroom.build.keys`), so a saved copy can say right or wrong with no connection

Both lists are for a signed-in learner only, and fetched only on saving: they hold what the
server otherwise hands out one step at a time (each stage's key; hashes a handful of options
can be tried against). A saved copy is the module as the learner could work through it anyway;
attempts made offline are counted in the page, and every answer still reaches the records,
scored here (:mod:`.offline_records`).
"""

from __future__ import annotations

import json
import urllib.parse

from tornado import web

from readingroom.build.keys import hashed_key, question_salt
from readingroom.build.offline import (
    FRAMES,
    OFFLINE_TEMPLATES,
    WORKER,
    frame_blobs,
    listing,
)
from readingroom.frames.cache import FrameCache
from readingroom.server.case_pages import CasePage, CasePages
from readingroom.server.catalog import Card, Catalog, public_id
from readingroom.server.learning.modules import ModuleHandler
from readingroom.server.stages import stage_key
from readingroom.widgets.assets import modules_version, served_sources


class ServiceWorkerHandler(web.RequestHandler):
    """GET ``/sw.js``: never cached long, so a new version of readingroom replaces it."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.finish((OFFLINE_TEMPLATES / WORKER).read_bytes())


class OfflineHandler(ModuleHandler):
    """What both lists need: the catalog and the cases' one runs; only for a signed-in learner."""

    def initialize(self, catalog: Catalog, case_pages: CasePages, secret: bytes, frames: FrameCache, **common) -> None:
        super().initialize(**common)
        self.catalog, self.case_pages, self.secret, self.frames = catalog, case_pages, secret, frames

    def prepare(self) -> None:
        super().prepare()
        if self.current_user is None:
            raise web.HTTPError(403, "Sign in to save a module for offline use.")

    async def case(self, case_id: str) -> tuple[Card, CasePage]:
        card = await self.catalog.checked_by_id(case_id)
        if card is None:
            raise web.HTTPError(404, "No such case, or it is withheld.")
        page = await self.case_pages.page(card)
        if page.error or page.live_reason:
            raise web.HTTPError(409, f"Case {case_id} cannot be saved for offline use: "
                                     f"{page.error or page.live_reason}.")
        return card, page

    def send_json(self, value: dict) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(value))


class OfflineListHandler(OfflineHandler):
    """GET ``/readingroom/offline/<module>.json``: every file of the module's saved copy, with its size."""

    async def get(self, name: str) -> None:
        module = self.module(name)
        files = {"": 0, f"modules/{name}": 0}  # pages rendered per learner: a few kB, not counted
        files.update({f"readingroom/static/{modules_version()}/{n}": len(text.encode())
                      for n, text in served_sources().items()})
        aliases = {}
        for slug in module.cases:
            card, page = await self.case(public_id(slug))
            files.update(self.case_files(card, page))
            aliases[f"modules/{name}/cases/{card.id}"] = f"cases/{card.id}/?{urllib.parse.urlencode({'module': name})}"
        self.send_json(listing(files, aliases))

    def case_files(self, card: Card, page: CasePage) -> dict[str, int]:
        stages = [stage.for_page() for stage in page.later_stages]
        files = {f"cases/{card.id}/": len(page.html.encode()),
                 f"readingroom/cases/{card.id}/offline-keys.json": 200 * len(page.keys)}
        for number, stage in enumerate(stages, start=1):
            key = stage_key(self.secret, card.id, number, card.version)
            files[f"readingroom/cases/{card.id}/stages/{number}?key={key}"] = len(json.dumps(stage))
        for digest, kind in sorted(frame_blobs([page.widgets, *stages])):
            path = self.frames.blob_path(digest, kind)
            files[f"{FRAMES}/{digest}.{kind}"] = path.stat().st_size if path is not None and path.is_file() else 0
        return files


class OfflineKeysHandler(OfflineHandler):
    """GET ``/readingroom/cases/<id>/offline-keys.json``: {widget id: salted hash of the answer} for the page's run."""

    async def get(self, case_id: str) -> None:
        card, page = await self.case(case_id)
        self.send_json({model_id: hashed_key(key, question_salt(card.version, model_id))
                        for model_id, key in page.keys.items()})

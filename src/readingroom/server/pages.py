"""Our catalog and case-page resources; every route is built in :func:`catalog_routes`.

- ``/``: the catalog page (cards, filters, search, unknown mode), HTML with its index inline
- ``/readingroom/catalog.json?known=1``: the index (unknown by default)
- ``/readingroom/thumbnails/<id>-<version>.jpg``: key-image thumbnails, immutable
- ``/cases/<id>/``: the case page: the unknown view run once, no kernel per visitor (Voila for live notebooks,
  under the kernel budget; ``?kernel=0``: such a case without a kernel)
- ``/readingroom/cases/<id>/answers``: POST, scores an answer on a case page without a kernel
- ``/readingroom/cases/<id>/stages/<k>?key=...``: stage k's HTML, with the key from stage k-1
- ``<id>`` is :func:`public_id` of the slug: slugs spell the diagnosis, so URLs never carry them
- anything else under ``/cases/``, and Voila's file, tree, render and contents routes: 404
"""

from __future__ import annotations

import json

import jinja2
from tornado import web
from voila.tornado.handler import TornadoVoilaHandler

from readingroom.case.roles import stages
from readingroom.errors import InputError
from readingroom.records import RecordsStore
from readingroom.server.answer_attempts import AnswerAttempts, give_reader_cookie, reader_of
from readingroom.server.base import CASE_ID, PlainHandler, base_of, template_environment
from readingroom.server.case_pages import CasePages
from readingroom.server.catalog import Catalog
from readingroom.server.forwarded import SecureBehindProxy
from readingroom.server.gate import WITHHELD
from readingroom.server.handlers import route_base
from readingroom.server.identity import current_user
from readingroom.server.live_case import serve_live
from readingroom.server.live_kernels import KernelBudget
from readingroom.server.stages import next_stage, render_stage, stage_key
from readingroom.server.thumbs import ThumbnailCache

IMMUTABLE = "public, max-age=31536000, immutable"


class CatalogPageHandler(PlainHandler):
    """GET ``/``: the catalog, cards built client-side from the unknown index embedded in the page."""

    def initialize(self, catalog: Catalog, environment: jinja2.Environment, records: RecordsStore) -> None:
        self.catalog, self.environment, self.records = catalog, environment, records

    async def get(self) -> None:
        index = await self.catalog.index(base_of(self), known=False)
        page = self.environment.get_template("catalog.html").render(
            base=base_of(self), index_json=json.dumps(index).replace("</", "<\\/"), count=len(index),
            known_index_url=base_of(self) + "readingroom/catalog.json?known=1",
            user=current_user(self, self.records), xsrf_token=self.xsrf_token.decode())
        self.set_header("Cache-Control", "private, no-cache")  # it names who is signed in
        self.finish(page)


class CatalogIndexHandler(PlainHandler):
    """GET ``/readingroom/catalog.json``: the unknown index; ``?known=1`` adds titles and diagnoses."""

    def initialize(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def get(self) -> None:
        known = self.get_argument("known", "0") == "1"
        index = await self.catalog.index(base_of(self), known=known)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-cache")
        self.finish(json.dumps(index))


class ThumbnailHandler(PlainHandler):
    """GET ``/readingroom/thumbnails/<id>-<version>.jpg``: immutable, the version is in the URL."""

    def initialize(self, catalog: Catalog, thumbnails: ThumbnailCache) -> None:
        self.catalog, self.thumbnails = catalog, thumbnails

    async def get(self, case_id: str, version: str) -> None:
        card = await self.catalog.checked_by_id(case_id)
        if card is None or card.version != version:
            raise web.HTTPError(404, "no such thumbnail")
        data = await self.thumbnails.get(card.slug, version, self.catalog.gate.cases_dir / card.slug / "images")
        self.set_header("Content-Type", "image/jpeg")
        self.set_header("Cache-Control", IMMUTABLE)
        self.finish(data)


class StageHandler(PlainHandler):
    """GET ``/readingroom/cases/<id>/stages/<k>?key=``: one later stage, only with the previous stage's key.

    It comes from the case's one run: with its widgets for a case page without a kernel, with
    pictures of them for a page Voila serves (nothing there could mount them); until that run
    is done, as the author saved it.
    """

    def initialize(self, catalog: Catalog, secret: bytes, case_pages: CasePages) -> None:
        self.catalog, self.secret, self.case_pages = catalog, secret, case_pages

    async def get(self, case_id: str, number: str) -> None:
        card = await self.catalog.checked_by_id(case_id)
        if card is None:
            _refuse(self.catalog, case_id)
        notebook = card.notebook
        k = int(number)
        if not 1 <= k < len(stages(notebook)):
            raise web.HTTPError(404, f"this case has no stage {k}")
        if self.get_argument("key", "") != stage_key(self.secret, case_id, k, card.version):
            raise web.HTTPError(403, "Reveal the earlier stages first (or reload the case page: it has changed).")
        page = self.case_pages.ready(card)
        if page is not None and page.later_stages:
            stage = page.later_stages[k - 1]
            shown = {"html": stage.pictures_html} if page.live_reason else stage.for_page()
            found = {"number": k, **shown, "next": next_stage(notebook, case_id, k + 1, self.secret, card.version)}
        else:
            found = render_stage(notebook, k, case_id=case_id, secret=self.secret, version=card.version)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(found))


class CasePageHandler(SecureBehindProxy, TornadoVoilaHandler):
    """GET ``/cases/<id>/``: the case's unknown view, run once (:mod:`.case_pages`); Voila for live notebooks,
    under the kernel budget (:mod:`.live_case`), or without a kernel with ``?kernel=0``."""

    def initialize(self, catalog: Catalog, case_pages: CasePages, budget: KernelBudget, **kwargs) -> None:
        super().initialize(**kwargs)
        self.catalog, self.case_pages, self.budget = catalog, case_pages, budget

    async def get(self, case_id: str) -> None:
        card = await self.catalog.checked_by_id(case_id)
        if card is None:
            _refuse(self.catalog, case_id)
        # Reading the token makes tornado set the _xsrf cookie: answers are posted with it, and
        # Voila's page shuts its kernel down on leaving with a beacon that needs it.
        self.xsrf_token  # noqa: B018
        give_reader_cookie(self)  # attempts at its questions are counted for this reader
        page = await self.case_pages.page(card)
        if page.error:
            raise web.HTTPError(500, f"This case cannot be shown: {page.error}. "
                                     "Its author can run `readingroom check` on it to see why.")
        if page.live_reason and self.get_argument("kernel", "") != "0":
            await serve_live(self, card, self.budget, template_environment(), base_of(self))
            return
        self.set_header("Cache-Control", "no-cache")  # the page names its version's reveal keys
        self.finish(page.html)

    def write_error(self, status_code: int, **kwargs) -> None:
        PlainHandler.write_error(self, status_code, **kwargs)


class AnswerHandler(PlainHandler):
    """POST ``/readingroom/cases/<id>/answers``: score one answer on a case page that has no kernel.

    Body: ``{"question": <widget id>, "choice": ...}``. Attempts are counted here, for the
    reader (:mod:`.answer_attempts`); an ``attempts_used`` the page sends is not believed.
    """

    MAX_BODY = 32 * 1024

    def initialize(self, catalog: Catalog, case_pages: CasePages, records: RecordsStore,
                   attempts: AnswerAttempts) -> None:
        self.catalog, self.case_pages, self.records, self.attempts = catalog, case_pages, records, attempts

    async def post(self, case_id: str) -> None:
        self.check_xsrf_cookie()  # Voila does not turn tornado's xsrf_cookies on, so ask for it here
        card = await self.catalog.checked_by_id(case_id)
        if card is None:
            _refuse(self.catalog, case_id)
        reader = reader_of(self, self.records)
        if reader is None:
            raise web.HTTPError(403, "Reload the case page to answer (its cookie is missing).")
        page = self.case_pages.ready(card)
        asked = self._body()
        key = page.keys.get(asked["question"]) if page else None
        if key is None:
            raise web.HTTPError(409, "This case has changed since the page was opened: reload the page.")
        try:
            choice = key.checked(asked["choice"])
        except InputError as error:
            raise web.HTTPError(400, str(error)) from None
        used = await self.attempts.take(reader, case_id, card.version, asked["question"], key.attempts)
        if used is None:
            raise web.HTTPError(409, "No attempts left for this question.")
        self.set_header("Cache-Control", "no-store")
        self.finish({"result": key.result(choice, used), "attempts_used": used, "response": choice})

    def _body(self) -> dict:
        if len(self.request.body) > self.MAX_BODY:
            raise web.HTTPError(413, "An answer is at most 32 KB.")
        try:
            body = json.loads(self.request.body)
            question = str(body["question"])
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(400, 'Send JSON: {"question": id, "choice": ...}.') from None
        return {"question": question, "choice": body.get("choice")}

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        self.finish({"error": getattr(error, "log_message", None) or self._reason})


class NotServedHandler(PlainHandler):
    """Files next to the notebooks, Voila's tree/render/contents views: never served."""

    def get(self, *args) -> None:
        raise web.HTTPError(404, "Not served: case files are only reachable through the case pages.")

    head = post = put = delete = patch = get


def _refuse(catalog: Catalog, case_id: str) -> None:
    slug = catalog.slug_of(case_id)
    if slug is None:
        raise web.HTTPError(404, "No such case.")
    raise web.HTTPError(403, WITHHELD.format(slug=slug))


def catalog_routes(base_url: str, catalog: Catalog, records: RecordsStore, secret: bytes, case_pages: CasePages,
                   budget: KernelBudget, voila_kwargs: dict, attempts: AnswerAttempts | None = None) -> list[tuple]:
    """The tornado rules for the catalog, case pages and what must not be served, under ``base_url``."""
    base = route_base(base_url)
    environment = template_environment()
    blocked = [r"voila/files/.*", r"voila/tree.*", r"voila/render/.*", r"voila/api/contents.*", r"files/.*",
               r"cases", r"cases/.*", r"tree.*", r"api/contents.*"]
    return [
        (rf"{base}", CatalogPageHandler, {"catalog": catalog, "environment": environment, "records": records}),
        (rf"{base}readingroom/catalog\.json", CatalogIndexHandler, {"catalog": catalog}),
        (rf"{base}readingroom/thumbnails/({CASE_ID})-([0-9a-f]+)\.jpg", ThumbnailHandler,
         {"catalog": catalog, "thumbnails": ThumbnailCache(catalog.gate.jobs)}),
        (rf"{base}readingroom/cases/({CASE_ID})/stages/([0-9]{{1,3}})", StageHandler,
         {"catalog": catalog, "secret": secret, "case_pages": case_pages}),
        (rf"{base}readingroom/cases/({CASE_ID})/answers", AnswerHandler,
         {"catalog": catalog, "case_pages": case_pages, "records": records,
          "attempts": attempts or AnswerAttempts()}),
        (rf"{base}cases/({CASE_ID})/", CasePageHandler,
         {"catalog": catalog, "case_pages": case_pages, "budget": budget, **voila_kwargs}),
        (rf"{base}cases/({CASE_ID})", web.RedirectHandler, {"url": base + "cases/{0}/"}),
    ] + [(rf"{base}{pattern}", NotServedHandler) for pattern in blocked]

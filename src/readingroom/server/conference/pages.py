"""The conference pages: the join form, the presenter console, the participant page, revealed stages.

- ``/join`` and ``/join/<CODE>``: display name, optional licence or board ID; the form posts
  to the join API (:mod:`.join`) and then opens the participant page
- ``/readingroom/conference/<id>/present?token=``: the presenter console
- ``/readingroom/conference/<id>/follow?ticket=``: the participant page; no kernel, only the
  viewer module and a websocket, so hundreds can follow from one small machine
- ``/readingroom/conference/<id>/stages/<k>?ticket=|token=``: stage k of the case on screen,
  only once the presenter has revealed it (the presenter may read any stage of the agenda)

The pages are a few kilobytes of HTML with their CSS inline; the scripts are the widget
modules at their versioned, cache-forever URL, so a tablet on a rural link loads them once.
"""

from __future__ import annotations

import json
import re

import jinja2
from tornado import web

from readingroom.server.base import (
    CASE_ID,
    PlainHandler,
    base_of,
    public_base,
    template_environment,
)
from readingroom.server.case_pages import CasePages
from readingroom.server.catalog import Catalog
from readingroom.server.conference.rooms import RoomsUnavailable
from readingroom.server.conference.sessions import Conference, Conferences
from readingroom.server.stages import render_stage
from readingroom.widgets.assets import modules_version

SESSION = r"([0-9]{1,12})"
CODE = r"([A-Za-z0-9-]{1,16})"
BAD_TOKEN = "This presenter link is not valid: use the link printed when the conference started."
BAD_TICKET = "This participant link is not valid for this conference: join again with the code."


def _config_json(value: dict) -> str:
    """JSON for a ``<script type="application/json">`` block (no ``</script>`` can close it early)."""
    return json.dumps(value).replace("</", "<\\/")


class _ConferencePage(PlainHandler):
    """Shared by the pages of one conference: find it by id, render a template with its settings."""

    def initialize(self, conferences: Conferences, environment: jinja2.Environment) -> None:
        self.conferences, self.environment = conferences, environment

    async def conference(self, session: str) -> Conference:
        try:
            found = await self.conferences.find(int(session))
        except RoomsUnavailable:
            raise web.HTTPError(503, "The conference is unreachable for a moment; reload the page.") from None
        if found is None:
            raise web.HTTPError(404, "No such conference: it may have ended when the server restarted.")
        return found

    def page(self, name: str, config: dict, **values) -> None:
        """``conference/<name>.html``, running the widget module ``<name>.js`` with ``config``."""
        base = base_of(self)
        self.set_header("Cache-Control", "no-store")  # the URL carries a secret; keep the page out of caches
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(self.environment.get_template(f"conference/{name}.html").render(
            base=base, version=modules_version(), module=f"{name}.js", body_class="rr-page",
            config_json=_config_json({"base": base, **config}), **values))


class PresenterPageHandler(_ConferencePage):
    """GET ``/readingroom/conference/<id>/present?token=``: the console; 403 for a wrong token."""

    async def get(self, session: str) -> None:
        conference = await self.conference(session)
        token = self.get_argument("token", "")
        if not conference.is_presenter(token):
            raise web.HTTPError(403, BAD_TOKEN)
        join_url = f"{public_base(self)}join/{conference.code}"
        self.page("presenter", {"session": conference.id, "token": token},
                  code=conference.code, join_url=join_url, qr_svg=_qr_svg(join_url))


class FollowerPageHandler(_ConferencePage):
    """GET ``/readingroom/conference/<id>/follow?ticket=``: the participant page; 403 for another session's ticket."""

    async def get(self, session: str) -> None:
        conference = await self.conference(session)
        ticket = self.get_argument("ticket", "")
        if conference.participant_of(ticket) is None:
            raise web.HTTPError(403, BAD_TICKET)
        self.page("follower", {"session": conference.id, "ticket": ticket})


class JoinPageHandler(PlainHandler):
    """GET ``/join`` and ``/join/<CODE>``: the join form (it posts JSON with the _xsrf cookie's token)."""

    def initialize(self, environment: jinja2.Environment) -> None:
        self.environment = environment

    def get(self, code: str = "") -> None:
        self.xsrf_token  # noqa: B018  (sets the _xsrf cookie the form's script sends back)
        wanted = "".join(ch for ch in code.upper() if ch.isalnum())[:6]
        self.set_header("Cache-Control", "no-store")
        page = self.environment.get_template("conference/join.html")
        self.finish(page.render(base=base_of(self), code=wanted, body_class="rr-join-page"))


class ConferenceStageHandler(_ConferencePage):
    """GET ``/readingroom/conference/<id>/stages/<k>``: a revealed stage's HTML as ``{"number", "html", "count"}``.

    A participant (``ticket=``) gets stage k of the case on screen only when k is no later
    than the stage the presenter revealed; the presenter (``token=``, ``case=``) gets any.
    A later stage comes from the case's one run (:mod:`readingroom.server.case_pages`): its
    viewers as pictures of their view, even when the author saved the notebook without
    outputs, and what its cells drew on the case's first viewer by then (``drawn``: its
    series and annotations), which the presenter's console adds to the shared view, so the
    arrows on the finding reach every follower with the reveal.
    """

    def initialize(self, conferences: Conferences, catalog: Catalog, secret: bytes, case_pages: CasePages) -> None:
        self.conferences, self.catalog, self.secret, self.case_pages = conferences, catalog, secret, case_pages

    async def get(self, session: str, number: str) -> None:
        conference = await self.conference(session)
        k = int(number)
        case_id = await self._allowed_case(conference, k)
        entry = next((e for e in conference.agenda if e["case"] == case_id), None)
        card = await self.catalog.checked_by_id(case_id) if entry else None
        if card is None:
            raise web.HTTPError(404, "That case is not on this conference's agenda.")
        if k >= entry["stages"]:
            raise web.HTTPError(404, f"This case has no stage {k + 1}.")
        # Never the stage's "next" key: it would open the public case page's later stages early.
        page = await self.case_pages.page(card) if k else None  # run at start-up; a reveal waits for it at most
        if page is not None and k <= len(page.later_stages):
            ran = page.later_stages[k - 1]
            found = {"number": k, "html": ran.pictures_html, "count": entry["stages"], "drawn": ran.drawn}
        else:
            stage = render_stage(card.notebook, k, case_id=case_id, secret=self.secret, version=card.version)
            found = {"number": k, "html": stage["html"], "count": entry["stages"]}
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(found))

    async def _allowed_case(self, conference: Conference, k: int) -> str:
        token = self.get_argument("token", "")
        if token:
            if not conference.is_presenter(token):
                raise web.HTTPError(403, BAD_TOKEN)
            case_id = self.get_argument("case", "")
            if not re.fullmatch(CASE_ID, case_id):
                raise web.HTTPError(400, "Missing or malformed case= (the case's public id).")
            return case_id
        if conference.participant_of(self.get_argument("ticket", "")) is None:
            raise web.HTTPError(403, BAD_TICKET)
        try:
            view = await conference.room.view()
        except RoomsUnavailable:
            raise web.HTTPError(503, "The conference is unreachable for a moment; try again.") from None
        if view is None or k > view.get("stage", 0):
            raise web.HTTPError(403, "The presenter has not revealed that stage yet.")
        return view["case"]


def _qr_svg(url: str) -> str:
    """The join link as an inline SVG QR code (participants scan it off the projected console)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=4, dark="#111", light="#fff", title="QR code of the join link")


def page_routes(base: str, conferences: Conferences, catalog: Catalog, secret: bytes,
                case_pages: CasePages) -> list[tuple]:
    """The tornado rules for the conference pages under ``base`` (which ends with "/")."""
    environment = template_environment()
    pages = {"conferences": conferences, "environment": environment}
    conference = rf"{base}readingroom/conference/{SESSION}"
    return [
        (rf"{base}join", JoinPageHandler, {"environment": environment}),
        (rf"{base}join/{CODE}", JoinPageHandler, {"environment": environment}),
        (rf"{conference}/present", PresenterPageHandler, pages),
        (rf"{conference}/follow", FollowerPageHandler, pages),
        (rf"{conference}/stages/([0-9]{{1,3}})", ConferenceStageHandler,
         {"conferences": conferences, "catalog": catalog, "secret": secret, "case_pages": case_pages}),
    ]


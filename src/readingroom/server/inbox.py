"""The educator's inbox: drafts made by `readingroom receive`, each with its key image.

- ``GET /readingroom/inbox``: the drafts, newest first
- ``GET /readingroom/inbox/<name>/key-image.jpg``: the draft's key image (or middle slice), small
- ``POST /readingroom/inbox/<name>/case`` (``title``, ``_xsrf``): make a case in ``cases/``, as `new` does
- ``POST /readingroom/inbox/<name>/delete`` (``_xsrf``): delete the draft

Educators only, like starting a conference; everyone else gets one line saying so. DICOM
work runs off the event loop.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
from tornado import web
from tornado.ioloop import IOLoop

from readingroom.errors import InputError
from readingroom.records import RecordsStore
from readingroom.server.handlers import route_base
from readingroom.server.identity import current_user
from readingroom.server.base import PlainHandler, base_of, template_environment
from readingroom.server.thumbs import render_thumbnail

EDUCATORS_ONLY = "Only an educator can open the inbox: sign in with an educator account first."
DRAFT = r"([0-9a-f]{8}(?:-[0-9]+)?)"
MAX_TITLE = 120


class _InboxHandler(PlainHandler):
    def initialize(self, inbox: Path, cases: Path, records: RecordsStore, environment: jinja2.Environment) -> None:
        self.inbox, self.cases, self.records, self.environment = inbox, cases, records, environment

    def prepare(self) -> None:
        self.set_header("Cache-Control", "no-store")
        user = current_user(self, self.records)
        if user is None or not user.is_educator:
            raise web.HTTPError(403, EDUCATORS_ONLY)
        if self.request.method == "POST":
            self.check_xsrf_cookie()  # Voila does not turn tornado's xsrf_cookies on, so ask for it here

    def back_to_inbox(self, **message: str) -> None:
        self.redirect(f"{base_of(self)}readingroom/inbox" + (f"?{urlencode(message)}" if message else ""))


class InboxPageHandler(_InboxHandler):
    async def get(self) -> None:
        from readingroom.inflow.drafts import list_drafts

        drafts = await IOLoop.current().run_in_executor(None, list_drafts, self.inbox)
        self.finish(self.environment.get_template("inbox.html").render(
            base=base_of(self), xsrf=self.xsrf_token.decode(), drafts=drafts, quote=quote,
            received=lambda d: dt.datetime.fromtimestamp(d.received).strftime("%d %b %Y %H:%M"),
            made=self.get_query_argument("made", ""), deleted=self.get_query_argument("deleted", "")))


class KeyImageHandler(_InboxHandler):
    async def get(self, name: str) -> None:
        from readingroom.inflow.drafts import Draft, draft_folder

        try:
            folder = draft_folder(self.inbox, name)
        except InputError as error:
            raise web.HTTPError(404, str(error)) from None
        key_images = frozenset(Draft.from_folder(folder).key_images)
        data = await IOLoop.current().run_in_executor(None, lambda: render_thumbnail(folder / "images", key_images=key_images))
        self.set_header("Content-Type", "image/jpeg")
        self.finish(data)


class MakeCaseHandler(_InboxHandler):
    async def post(self, name: str) -> None:
        from readingroom.inflow.drafts import make_case

        title = self.get_body_argument("title", "").strip()
        if not title or len(title) > MAX_TITLE:
            raise web.HTTPError(400, f"Give the case a title of 1 to {MAX_TITLE} characters.")
        try:
            folder = await IOLoop.current().run_in_executor(None, make_case, self.inbox, name, self.cases, title)
        except InputError as error:
            raise web.HTTPError(400, str(error)) from None
        self.back_to_inbox(made=folder.name)


class DeleteDraftHandler(_InboxHandler):
    async def post(self, name: str) -> None:
        from readingroom.inflow.drafts import delete_draft

        try:
            await IOLoop.current().run_in_executor(None, delete_draft, self.inbox, name)
        except InputError as error:
            raise web.HTTPError(404, str(error)) from None
        self.back_to_inbox(deleted=name)


def inbox_routes(base_url: str, inbox: Path, cases: Path, records: RecordsStore) -> list[tuple]:
    """The tornado rules for the inbox under ``base_url``."""
    root = f"{route_base(base_url)}readingroom/inbox"
    common = {"inbox": inbox, "cases": cases, "records": records, "environment": template_environment()}
    return [
        (root, InboxPageHandler, common),
        (rf"{root}/{DRAFT}/key-image\.jpg", KeyImageHandler, common),
        (rf"{root}/{DRAFT}/case", MakeCaseHandler, common),
        (rf"{root}/{DRAFT}/delete", DeleteDraftHandler, common),
    ]

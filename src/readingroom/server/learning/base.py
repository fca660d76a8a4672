"""What every learning page shares: the records store, the templates, who is signed in, XSRF on every POST."""

from __future__ import annotations

import urllib.parse

import jinja2
from tornado import web

from readingroom.build.offline import OFFLINE_TEMPLATES
from readingroom.records import Participant, RecordsStore
from readingroom.server.identity import current_user
from readingroom.server.base import TEMPLATES, PlainHandler, base_of

MAX_BODY = 16 * 1024  # the largest form here (an evaluation) is a few hundred characters


def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader([TEMPLATES / "learning", TEMPLATES, OFFLINE_TEMPLATES]),
                              autoescape=True)


class LearningHandler(PlainHandler):
    """A learning page: renders from ``templates/learning``, knows the signed-in participant."""

    def initialize(self, store: RecordsStore, environment: jinja2.Environment) -> None:
        self.store, self.environment = store, environment

    def prepare(self) -> None:
        # The serving app does not turn tornado's xsrf_cookies setting on (Voila's own
        # handlers would break), so our forms check the token themselves.
        if self.request.method == "POST":
            if len(self.request.body) > MAX_BODY:
                raise web.HTTPError(413, "That form is too large.")
            self.check_xsrf_cookie()
        self.set_header("Cache-Control", "no-store")

    def get_current_user(self) -> Participant | None:
        return current_user(self, self.store)

    @property
    def base(self) -> str:
        return base_of(self)

    def require_user(self) -> Participant:
        """The signed-in participant; anyone else is sent to sign in and brought back here."""
        user = self.current_user
        if user is None:
            target = self.request.uri if self.request.method == "GET" else self.base + "modules"
            self.redirect(f"{self.base}signin?{urllib.parse.urlencode({'next': target})}")
            raise web.Finish()
        return user

    def render_page(self, template: str, status: int = 200, **values) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        page = self.environment.get_template(template).render(
            base=self.base, user=self.current_user, xsrf_token=self.xsrf_token.decode(), **values)
        self.finish(page)

    def field(self, name: str, limit: int, *, required: bool = True) -> str:
        """One form field, trimmed; a missing or oversized one is a 400 saying which."""
        value = self.get_body_argument(name, "").strip()
        if required and not value:
            raise web.HTTPError(400, f"Missing field: {name}")
        if len(value) > limit:
            raise web.HTTPError(400, f"The field {name} is longer than {limit} characters.")
        return value

"""A signed-in educator's "Start conference": ``GET /readingroom/conference/new`` and ``POST .../start``.

Only an educator account may start one (its sessions go into the CME records); anyone
else gets one line saying how to get in. The POST redirects to the presenter console,
whose URL carries the new presenter token.
"""

from __future__ import annotations

import jinja2
from tornado import web
from tornado.ioloop import IOLoop

from readingroom.errors import InputError
from readingroom.records import Participant
from readingroom.server.conference.socket import Hubs
from readingroom.server.identity import current_user
from readingroom.server.base import PlainHandler, base_of

EDUCATORS_ONLY = "Only an educator can start a conference: sign in with an educator account first."


class _EducatorPage(PlainHandler):
    def initialize(self, hubs: Hubs, environment: jinja2.Environment) -> None:
        self.hubs, self.environment = hubs, environment

    def educator(self) -> Participant:
        user = current_user(self, self.hubs.records)
        if user is None or not user.is_educator:
            raise web.HTTPError(403, EDUCATORS_ONLY)
        return user


class NewConferenceHandler(_EducatorPage):
    """GET: the form listing what can be presented (cases passing the checks, modules)."""

    async def get(self) -> None:
        user = self.educator()
        cases, modules = await self.hubs.conferences.servable()
        self.set_header("Cache-Control", "no-store")
        self.finish(self.environment.get_template("conference/new.html").render(
            base=base_of(self), xsrf=self.xsrf_token.decode(), educator=user.display_name,
            cases=cases, modules=modules))


class StartConferenceHandler(_EducatorPage):
    """POST (``what`` = a case slug or module name, ``_xsrf``): start it, then go to the presenter console."""

    async def post(self) -> None:
        self.check_xsrf_cookie()  # Voila does not turn tornado's xsrf_cookies on, so ask for it here
        self.educator()
        what = self.get_body_argument("what", "")
        try:
            conference = await IOLoop.current().run_in_executor(None, self.hubs.conferences.start, what)
        except InputError as error:
            raise web.HTTPError(400, str(error)) from None
        self.redirect(f"{base_of(self)}readingroom/conference/{conference.id}/present?token={conference.token}")

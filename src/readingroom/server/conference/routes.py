"""Every conference route in one place (the socket, the join API, the educator's start, the pages)."""

from __future__ import annotations

from readingroom.server.base import template_environment
from readingroom.server.case_pages import CasePages
from readingroom.server.catalog import Catalog
from readingroom.server.conference.join import JoinHandler, wrong_code_limiter
from readingroom.server.conference.pages import page_routes
from readingroom.server.conference.sessions import Conferences
from readingroom.server.conference.socket import ConferenceSocket, Hubs
from readingroom.server.conference.start import (
    NewConferenceHandler,
    StartConferenceHandler,
)
from readingroom.server.handlers import route_base
from readingroom.server.shared import Shared


def conference_routes(base_url: str, conferences: Conferences, catalog: Catalog, secret: bytes,
                      case_pages: CasePages, shared: Shared | None = None) -> list[tuple]:
    """The tornado rules for live conferences under ``base_url``."""
    base = route_base(base_url)
    hubs = Hubs(conferences)
    educator = {"hubs": hubs, "environment": template_environment()}
    root = f"{base}readingroom/conference"
    return [
        (rf"{root}/([0-9]{{1,12}})/ws", ConferenceSocket, {"hubs": hubs}),
        (rf"{root}/join", JoinHandler, {"hubs": hubs, "base": base,
                                       "wrong_codes": wrong_code_limiter((shared or Shared()).limiter)}),
        (rf"{root}/new", NewConferenceHandler, educator),
        (rf"{root}/start", StartConferenceHandler, educator),
    ] + page_routes(base, conferences, catalog, secret, case_pages)

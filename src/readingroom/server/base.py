"""What every page handler shares: the templates, the site's base URL as pages and users know it, plain errors."""

from __future__ import annotations

from pathlib import Path

import jinja2
from tornado import web

from readingroom.build.offline import OFFLINE_TEMPLATES
from readingroom.server.forwarded import SecureBehindProxy, came_over_https

TEMPLATES = Path(__file__).parent / "templates"
CASE_ID = r"[0-9a-f]{10}"


def template_environment() -> jinja2.Environment:
    """Our pages' templates, and the offline scripts every host shares (:mod:`readingroom.build.offline`)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader([TEMPLATES, OFFLINE_TEMPLATES]), autoescape=True)


PUBLIC_URL_SETTING = "readingroom_public_url"


def public_base(handler: web.RequestHandler) -> str:
    """The site's address as its users know it, ending in "/": for links that leave the browser.

    QR codes and the verification URL printed on certificates must name the public address
    (``--public-url``), not the host a proxy forwarded to.
    """
    configured = handler.settings.get(PUBLIC_URL_SETTING)
    if configured:
        return configured.rstrip("/") + "/"
    scheme = "https" if came_over_https(handler) else handler.request.protocol
    return f"{scheme}://{handler.request.host}{base_of(handler)}"


def base_of(handler: web.RequestHandler) -> str:
    url = handler.settings.get("base_url", "/")
    return url if url.endswith("/") else url + "/"


class PlainHandler(SecureBehindProxy):
    """Errors as one readable line of HTML, never a traceback; cookies Secure behind a TLS proxy."""

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(f'<!doctype html><html lang="en"><title>{status_code} - readingroom</title>'
                    f"<main><p>{web.escape.xhtml_escape(message)}</p></main></html>")

"""What every page handler shares: the templates, the site's base URL as pages and users know it, plain errors."""

from __future__ import annotations

from pathlib import Path

import jinja2
from tornado import web

TEMPLATES = Path(__file__).parent / "templates"
CASE_ID = r"[0-9a-f]{10}"


def template_environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


PUBLIC_URL_SETTING = "readingroom_public_url"


def public_base(handler: web.RequestHandler) -> str:
    """The site's address as its users know it, ending in "/": for links that leave the browser.

    QR codes and the verification URL printed on certificates must name the public address
    (``--public-url``), not the host a proxy forwarded to.
    """
    configured = handler.settings.get(PUBLIC_URL_SETTING)
    return configured.rstrip("/") + "/" if configured else f"{handler.request.protocol}://{handler.request.host}{base_of(handler)}"


def base_of(handler: web.RequestHandler) -> str:
    url = handler.settings.get("base_url", "/")
    return url if url.endswith("/") else url + "/"


class PlainHandler(web.RequestHandler):
    """Errors as one readable line of HTML, never a traceback."""

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        message = getattr(error, "log_message", None) or self._reason
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(f"<!doctype html><title>{status_code}</title><p>{web.escape.xhtml_escape(message)}</p>")

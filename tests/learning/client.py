"""A small cookie-keeping HTTP client that posts forms with the _xsrf token, as a browser would."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Visitor:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.stay = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def get(self, path: str) -> tuple[int, str, bytes]:
        """Status, final URL (after redirects) and body."""
        return self._open(urllib.request.Request(self.base + path.lstrip("/")))

    def redirect_of(self, path: str) -> tuple[int, str]:
        """Status and Location of a GET, without following it (e.g. into a case page and its kernel)."""
        request = urllib.request.Request(self.base + path.lstrip("/"))
        try:
            with self.stay.open(request, timeout=60) as reply:
                return reply.status, reply.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", "")

    def post(self, path: str, fields: dict[str, str | int], *, xsrf: bool = True) -> tuple[int, str, bytes]:
        data = {k: str(v) for k, v in fields.items()}
        if xsrf:
            data["_xsrf"] = self.xsrf()
        request = urllib.request.Request(self.base + path.lstrip("/"), data=urllib.parse.urlencode(data).encode())
        return self._open(request)

    def xsrf(self) -> str:
        token = next((c.value for c in self.cookies if c.name == "_xsrf"), None)
        if token is None:  # any of our pages sets the cookie
            status, _, body = self.get("signin")
            token = next(c.value for c in self.cookies if c.name == "_xsrf")
        return token

    def sign_in(self, username: str, password: str) -> tuple[int, str, bytes]:
        return self.post("signin", {"username": username, "password": password, "next": "/modules"})

    def _open(self, request: urllib.request.Request) -> tuple[int, str, bytes]:
        try:
            with self.opener.open(request, timeout=60) as reply:
                return reply.status, reply.url, reply.read()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read()


def text_of(body: bytes) -> str:
    """The page's visible words, tags removed, whitespace collapsed."""
    html = re.sub(r"<(style|script)\b.*?</\1>", " ", body.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

"""``/signin`` and ``/signout``: local accounts checked by the records store (Argon2), limited per address."""

from __future__ import annotations

import time
from collections import deque

from tornado import web
from tornado.ioloop import IOLoop

from readingroom.server.identity import TRUSTED_HEADER_SETTING, sign_in, sign_out
from readingroom.server.learning.base import LearningHandler

WRONG = "Wrong username or password"


class AttemptLimiter:
    """At most ``attempts`` failed sign-ins per address in ``window`` seconds, so passwords cannot be guessed fast.

    Bounded: addresses whose failures are all older than the window are dropped on each check.
    """

    def __init__(self, attempts: int = 10, window: float = 300.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, address: str) -> bool:
        self._forget_old(time.monotonic())
        return len(self._failures.get(address, ())) >= self.attempts

    def failed(self, address: str) -> None:
        self._failures.setdefault(address, deque()).append(time.monotonic())

    def _forget_old(self, now: float) -> None:
        for address in list(self._failures):
            times = self._failures[address]
            while times and now - times[0] > self.window:
                times.popleft()
            if not times:
                del self._failures[address]


def safe_next(target: str, base: str) -> str:
    """Where to go after signing in: only a path on this site (never ``//host`` or a full URL)."""
    if target.startswith(base) and not target.startswith("//") and "\\" not in target and len(target) < 500:
        return target
    return base + "modules"


class SignInHandler(LearningHandler):
    """GET shows the form; POST checks the password off the event loop (Argon2 is slow on purpose)."""

    def initialize(self, limiter: AttemptLimiter, **common) -> None:
        super().initialize(**common)
        self.limiter = limiter

    def prepare(self) -> None:
        super().prepare()
        if self.settings.get(TRUSTED_HEADER_SETTING):  # the sign-on proxy signs people in, not a local password
            raise web.HTTPError(404, "Sign-in is handled by your organisation's single sign-on.")

    def get(self) -> None:
        self.render_page("signin.html", next=safe_next(self.get_argument("next", ""), self.base), error=None)

    async def post(self) -> None:
        target = safe_next(self.get_body_argument("next", ""), self.base)
        address = self.request.remote_ip or ""
        if self.limiter.blocked(address):
            self.render_page("signin.html", status=429, next=target,
                             error="Too many sign-in attempts from this address: wait five minutes and try again.")
            return
        username, password = self.field("username", 200, required=False), self.get_body_argument("password", "")
        participant = None
        if username and password and len(password) <= 1024:
            participant = await IOLoop.current().run_in_executor(None, self.store.authenticate, username, password)
        if participant is None:
            self.limiter.failed(address)
            self.render_page("signin.html", next=target, error=WRONG, username=username)
            return
        sign_in(self, participant)
        self.redirect(target)


class SignOutHandler(LearningHandler):
    """POST signs out (a GET would let any page sign a visitor out with an image tag)."""

    def get(self) -> None:
        self.render_page("signout.html")

    def post(self) -> None:
        sign_out(self)
        self.redirect(self.base)


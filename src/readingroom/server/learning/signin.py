"""``/signin`` and ``/signout``: local accounts checked by the records store (Argon2).

Failed sign-ins are limited per account (so one password cannot be guessed fast from many
addresses) and per address (so many accounts cannot be tried from one), with an address's
budget fit for a hospital's NAT, where a whole department signs in from one address.
"""

from __future__ import annotations

import re

from tornado import web
from tornado.ioloop import IOLoop

from readingroom.server.forwarded import client_address
from readingroom.server.identity import TRUSTED_HEADER_SETTING, sign_in, sign_out
from readingroom.server.learning.base import LearningHandler
from readingroom.server.rate_limit import FailureLimiter

WRONG = "Wrong username or password"
WINDOW = 600.0  # seconds
FAILURES_PER_ACCOUNT = 10
FAILURES_PER_ADDRESS = 100  # a department behind one NAT, each mistyping now and then
# Only a path on this site, in plain URL characters: no scheme, no "//host", no backslash, no
# tab or newline, raw or %-encoded (browsers drop those, so "/\t/other.host" is "//other.host").
SAME_SITE_PATH = re.compile(r"/(?![/\\]|%2f|%5c)(?!.*%(?:[01][0-9a-f]|7f))[a-z0-9\-._~!$&'()*+,;=:@%/?]{0,499}",
                            re.IGNORECASE)


class SignInLimits:
    """The two limits on failed sign-ins, per account and per address (``limiter``: shared ones, with --redis)."""

    def __init__(self, limiter=None) -> None:
        limiter = limiter or (lambda name, allowed, window: FailureLimiter(allowed, window))
        self.accounts = limiter("signin-accounts", FAILURES_PER_ACCOUNT, WINDOW)
        self.addresses = limiter("signin-addresses", FAILURES_PER_ADDRESS, WINDOW)

    async def refusal(self, username: str, address: str) -> str | None:
        """Why this attempt is refused before its password is checked, or None."""
        if await self.accounts.blocked(username.lower()):
            return "Too many failed sign-ins to this account: wait ten minutes and try again."
        if await self.addresses.blocked(address):
            return "Too many failed sign-ins from your network: wait ten minutes and try again."
        return None

    async def failed(self, username: str, address: str) -> None:
        await self.accounts.failed(username.lower())
        await self.addresses.failed(address)


def safe_next(target: str, base: str) -> str:
    """Where to go after signing in: only a path on this site (never ``//host``, a full URL or a control character)."""
    if target.startswith(base) and SAME_SITE_PATH.fullmatch(target):
        return target
    return base + "modules"


class SignInHandler(LearningHandler):
    """GET shows the form; POST checks the password off the event loop (Argon2 is slow on purpose)."""

    def initialize(self, limits: SignInLimits, **common) -> None:
        super().initialize(**common)
        self.limits = limits

    def prepare(self) -> None:
        super().prepare()
        if self.settings.get(TRUSTED_HEADER_SETTING):  # the sign-on proxy signs people in, not a local password
            raise web.HTTPError(404, "Sign-in is handled by your organisation's single sign-on.")

    def get(self) -> None:
        self.render_page("signin.html", next=safe_next(self.get_argument("next", ""), self.base), error=None)

    async def post(self) -> None:
        target = safe_next(self.get_body_argument("next", ""), self.base)
        address = client_address(self)
        username, password = self.field("username", 200, required=False), self.get_body_argument("password", "")
        refusal = await self.limits.refusal(username, address)
        if refusal:
            self.render_page("signin.html", status=429, next=target, error=refusal, username=username)
            return
        participant = None
        if username and password and len(password) <= 1024:
            participant = await IOLoop.current().run_in_executor(None, self.store.authenticate, username, password)
        if participant is None:
            await self.limits.failed(username, address)
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


"""Sign-in through JupyterHub when readingroom runs as one of the hub's services (``serve --jupyterhub``).

The hub's own OAuth client, :class:`jupyterhub.services.auth.HubOAuth`, does the OAuth work: the
redirect to the hub's authorize page (PKCE and a state cookie), the callback that trades the code
for a token and keeps it in a signed cookie under readingroom's prefix, and the token's check
against the hub's API (cached for a minute). That check is synchronous, as in the hub's own
``HubAuthenticated``, because every page asks who is signed in synchronously: once a minute per
visitor the event loop waits for the hub's answer, milliseconds with the hub on the same network. Like every hub service, readingroom takes its settings
from the JUPYTERHUB_* variables: the hub sets them for a service it starts, the operator for one
it runs itself (docs/deploy.md).

A hub user is a readingroom user (an account made at first sign-in, with no local password); a hub
admin, or a member of the educators' group, is an educator, kept in step at every visit.
Importing this module imports JupyterHub (the ``hub`` extra): only the serving app does, and only
with ``--jupyterhub``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httputil import url_concat

from readingroom.records import Participant, RecordsStore
from readingroom.server.base import PlainHandler

# What the hub tells a service it starts; an external service's operator sets the same.
REQUIRED_ENVIRONMENT = ("JUPYTERHUB_API_TOKEN", "JUPYTERHUB_API_URL", "JUPYTERHUB_CLIENT_ID",
                        "JUPYTERHUB_SERVICE_NAME", "JUPYTERHUB_SERVICE_PREFIX")
HUB_UNAVAILABLE = "JupyterHub, which signs you in here, is not answering: try again in a minute."
CHECK_AGAIN_SECONDS = 60  # how long the hub's word on a token holds: a user taken out of a group loses it this soon
MAX_USERNAME = 200  # what the records store keeps


def missing_environment(environ: Mapping[str, str] = os.environ) -> list[str]:
    return [name for name in REQUIRED_ENVIRONMENT if not environ.get(name)]


class _ServiceOAuth(HubOAuth):
    """HubOAuth, less its patch of tornado's XSRF check.

    Handlers that are not the hub's own get ``RequestHandler.check_xsrf_cookie`` and ``xsrf_token``
    swapped by HubOAuth, for every handler in the process, Voila's included. Ours need none of it:
    their forms carry tornado's own token and every POST checks it (learning/base.py, inbox.py).
    """

    def _patch_xsrf(self, handler: web.RequestHandler) -> None:
        return None


class HubSignIn:
    """Who a request's hub cookie belongs to, and the ways in and out through the hub."""

    def __init__(self, auth: HubOAuth, educator_group: str = "") -> None:
        self.auth, self.educator_group = auth, educator_group

    @classmethod
    def from_environment(cls, base_url: str, educator_group: str = "") -> HubSignIn:
        """The hub named by the JUPYTERHUB_* variables (checked first by ``serve``), for a service under ``base_url``."""
        return cls(_ServiceOAuth(base_url=base_url, cache_max_age=CHECK_AGAIN_SECONDS), educator_group)

    def participant(self, handler: web.RequestHandler, store: RecordsStore) -> Participant | None:
        """The signed-in hub user's account, or None (no cookie, a forged or expired one, or no access to this service)."""
        try:
            model = self.auth.get_user(handler)
        except web.HTTPError:  # the hub is down or refused our token; HubOAuth logged why, with the hub's address
            raise web.HTTPError(503, HUB_UNAVAILABLE) from None
        if not model or model.get("kind", "user") != "user" or not 0 < len(model.get("name", "")) <= MAX_USERNAME:
            return None
        if self.auth.access_scopes and not self.auth.check_scopes(self.auth.access_scopes, model):
            return None  # signed in at the hub, but the hub does not let this user use readingroom
        in_group = bool(self.educator_group) and self.educator_group in model.get("groups", [])
        return store.single_sign_on(model["name"], educator=bool(model.get("admin")) or in_group)

    def sign_in_url(self, handler: web.RequestHandler, next_url: str) -> str:
        """The hub's authorize page; the hub then sends the browser through our callback on to ``next_url``."""
        params = {}
        verifier = None
        if self.auth.pkce_enabled:
            verifier, params["code_challenge"], params["code_challenge_method"] = \
                self.auth.generate_pkce_code_challenge()
        params["state"] = self.auth.set_state_cookie(handler, next_url=next_url, code_verifier=verifier)
        return url_concat(self.auth.login_url, params)

    def sign_out(self, handler: web.RequestHandler) -> None:
        """Forget the hub's token here; the hub's own session goes on (see :attr:`hub_sign_out_url`)."""
        self.auth.clear_cookie(handler)

    @property
    def hub_sign_out_url(self) -> str:
        return self.auth.hub_host + url_path_join(self.auth.hub_prefix, "logout")


class HubCallbackHandler(HubOAuthCallbackHandler, PlainHandler):
    """``<prefix>oauth_callback``: the hub's own handler checks the state, trades the code, sets the cookie."""

    def initialize(self, hub: HubSignIn) -> None:
        self.hub_auth = hub.auth


def hub_routes(base: str, hub: HubSignIn) -> list[tuple]:
    """The callback the hub sends browsers back to; it must match the service's oauth_redirect_uri."""
    return [(rf"{base}oauth_callback", HubCallbackHandler, {"hub": hub})]

"""Who is signed in: one signed cookie holding the records store's participant id, a sign-on proxy's
header, or JupyterHub's token when readingroom is one of the hub's services.

Shared by the learning pages (which sign people in) and the conference (an educator
starts one; a signed-in participant joins as their account, so attendance counts for
their CME credit). Tornado signs the cookie with the app's ``cookie_secret``.

Deployed behind a single-sign-on proxy that authenticates every request against the
hospital's OIDC provider (oauth2-proxy, or a JupyterHub-authenticated proxy), the app
trusts the header that proxy sets (``readingroom serve --trusted-user-header``) instead,
and local passwords are not used. Only safe when the proxy is the sole way in.

As a JupyterHub service (``readingroom serve --jupyterhub``) the hub signs people in: the hub's
OAuth client keeps its token in a cookie under readingroom's prefix and the hub says who holds it
(server/hub.py); local passwords are not used either.
"""

from __future__ import annotations

from tornado import web

from readingroom.records import NotFoundError, Participant, RecordsStore
from readingroom.server.forwarded import came_over_https

USER_COOKIE = "rr_user"
SIGNED_IN_DAYS = 1  # a shared hospital computer should not stay signed in for long
TRUSTED_HEADER_SETTING = "readingroom_trusted_user_header"  # tornado setting: the sign-on proxy's header, if any
HUB_SETTING = "readingroom_hub"  # tornado setting: the JupyterHub sign-in (server/hub.py), as a hub service


def current_user(handler: web.RequestHandler, store: RecordsStore) -> Participant | None:
    """The signed-in participant, or None (no cookie, a forged one, or an account since removed)."""
    hub = handler.settings.get(HUB_SETTING)
    if hub is not None:
        return hub.participant(handler, store)
    header = handler.settings.get(TRUSTED_HEADER_SETTING)
    if header:
        username = handler.request.headers.get(header, "").strip()
        return store.single_sign_on(username) if 0 < len(username) <= 200 else None
    value = handler.get_signed_cookie(USER_COOKIE, max_age_days=SIGNED_IN_DAYS)
    if not value or not value.isdigit():
        return None
    try:
        return store.participant(int(value))
    except NotFoundError:
        return None


def sign_in(handler: web.RequestHandler, participant: Participant) -> None:
    handler.set_signed_cookie(USER_COOKIE, str(participant.id), expires_days=SIGNED_IN_DAYS, httponly=True,
                              samesite="Lax", secure=came_over_https(handler))


def sign_out(handler: web.RequestHandler) -> None:
    handler.clear_cookie(USER_COOKIE)
    hub = handler.settings.get(HUB_SETTING)
    if hub is not None:
        hub.sign_out(handler)

"""``/readingroom/records``: records a browser kept while offline (outbox.js), sent when it is online again.

POST ``{"records": [{"key", "kind", ...}]}`` with up to :data:`MAX_RECORDS` records, each:

- ``answer``: ``case`` (its public id), ``question`` (its place in the case), ``choice``; scored
  here against the case's own key, whatever the page said;
- ``time``: ``module``, ``seconds`` of time on task (at most a heartbeat's worth);
- ``open``: ``module``, ``case``: the case counts as opened (cases open in order);
- ``test``: ``module``, ``test`` (pre or post), ``choices``; ``evaluation``: ``module``, ``choices``:
  the module's steps as its page's forms take them (:mod:`.progress`), so post-tests are scored
  and credit awarded as they are online.

The reply names each record ``landed`` (stored now, or before: the key is stored once, so a
record sent again after a lost reply is not counted twice) or ``refused`` with why (sent again,
it would be refused again: the browser keeps it and stops sending it). A learner not signed in
gets 403 and the sign-in address. Times are the server's, on arrival: a browser's clock is not
evidence for credit.

Who may send them. A static site built with ``--server`` sends them from its own origin, with the
server's sign-in cookie (``credentials: "include"``). CORS lets only the site origins the server is
configured with (``--site-origin``) read replies, and answers their preflight; every other origin
gets no CORS header and its preflight fails, so its scripts cannot send a credentialed JSON
POST here at all. A plain HTML form from any site can still POST cross-origin without a preflight,
which is what XSRF tokens guard against elsewhere; the static site cannot read this server's
``_xsrf`` cookie, so here the guard is instead: the body must be ``application/json`` (a form
cannot send that, and a script can only after a preflight) and a request with an ``Origin`` not
ours and not configured is refused (403). The sign-in cookie stays ``SameSite=Lax`` and is not
opened to ``SameSite=None``: browsers then send it only from the same site (the same registrable
domain: ``teaching.hospital.org`` and ``rr.hospital.org``), so a static site on another domain
cannot send records signed in, and no other site can make a signed-in learner's browser send any.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from tornado import web

from readingroom.curriculum import CreditNotEarned, Module
from readingroom.errors import InputError
from readingroom.records import Participant, RecordsError, RecordsStore
from readingroom.server.base import PlainHandler, base_of, public_base
from readingroom.server.case_pages import CasePages, question_label
from readingroom.server.catalog import Catalog
from readingroom.server.forwarded import came_over_https
from readingroom.server.identity import current_user
from readingroom.server.learning import progress

MAX_BODY = 256 * 1024
MAX_RECORDS = 100  # outbox.js sends at most this many at once
KEY_CHARACTERS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
SITE_ORIGINS_SETTING = "readingroom_site_origins"  # tornado setting: origins of static sites sending records here


class Refused(Exception):
    """One record cannot be counted, for good (the browser stops sending it)."""


def site_origins(configured: Iterable[str]) -> frozenset[str]:
    """The configured origins, checked: ``scheme://host[:port]``, nothing after it."""
    origins = set()
    for given in configured:
        origin = given.strip().rstrip("/")  # browsers send it without the slash
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest or "?" in rest or "#" in rest:
            raise InputError(f"--site-origin {given!r} is not an origin: give scheme, host and port only, "
                             "e.g. https://teaching.hospital.org")
        origins.add(origin)
    return frozenset(origins)


class RecordsHandler(PlainHandler):
    """GET: who is signed in (for a static site's page); POST: the records; OPTIONS: the CORS preflight."""

    def initialize(self, store: RecordsStore, modules: dict[str, Module], catalog: Catalog,
                   case_pages: CasePages) -> None:
        self.store, self.modules, self.catalog, self.case_pages = store, modules, catalog, case_pages

    def prepare(self) -> None:
        origin = self.request.headers.get("Origin")
        self.set_header("Vary", "Origin")
        self.set_header("Cache-Control", "no-store")
        if origin is None or origin == self.own_origin():
            return
        if origin not in self.settings.get(SITE_ORIGINS_SETTING, frozenset()):
            raise web.HTTPError(403, f"Records are not taken from {origin}: the server allows only the sites "
                                     "given with --site-origin.")
        self.set_header("Access-Control-Allow-Origin", origin)
        self.set_header("Access-Control-Allow-Credentials", "true")

    def own_origin(self) -> str:
        scheme = "https" if came_over_https(self) else self.request.protocol
        return f"{scheme}://{self.request.host}"

    def options(self) -> None:
        self.set_header("Access-Control-Allow-Methods", "GET, POST")
        self.set_header("Access-Control-Allow-Headers", "Content-Type")
        self.set_header("Access-Control-Max-Age", "600")
        self.set_status(204)
        self.finish()

    def get(self) -> None:
        user = current_user(self, self.store)
        self.finish({"signed_in": user is not None, "signin": self.signin_url()})

    async def post(self) -> None:
        records = self.records()
        user = current_user(self, self.store)
        if user is None:
            self.set_status(403)
            self.finish({"error": "Sign in to send the records made offline.", "signin": self.signin_url()})
            return
        landed, refused = [], []
        for record in records:
            key = record["key"]
            try:
                await self.record(user, record)
            except Refused as reason:
                refused.append({"key": key, "reason": str(reason)})
                continue
            landed.append(key)
        self.finish({"landed": landed, "refused": refused})

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        self.finish({"error": getattr(error, "log_message", None) or self._reason})

    def signin_url(self) -> str:
        return f"{public_base(self)}signin?next={base_of(self)}modules"

    def records(self) -> list[dict]:
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise web.HTTPError(415, "Send the records as application/json.")
        if len(self.request.body) > MAX_BODY:
            raise web.HTTPError(413, f"At most {MAX_BODY // 1024} KB of records at once.")
        try:
            records = json.loads(self.request.body)["records"]
        except (ValueError, KeyError, TypeError):
            raise web.HTTPError(400, 'Send JSON: {"records": [{"key": ..., "kind": ...}, ...]}.') from None
        if not isinstance(records, list) or len(records) > MAX_RECORDS:
            raise web.HTTPError(400, f"Send a list of at most {MAX_RECORDS} records.")
        for record in records:
            key = record.get("key") if isinstance(record, dict) else None
            if not isinstance(key, str) or not 8 <= len(key) <= 64 or not set(key) <= KEY_CHARACTERS:
                raise web.HTTPError(400, "Each record needs a key of 8-64 letters, digits, - or _.")
        return records

    async def record(self, user: Participant, record: dict) -> None:
        """Store one record once; Refused says why it cannot be."""
        key, kind, now = record["key"], record.get("kind"), datetime.now(UTC)
        if kind == "answer":
            await self.answer(user, record, now)
            return
        module = self.modules.get(record.get("module"))
        if module is None:
            raise Refused("no such module on this server")
        if kind != "open" and self.store.landed(user.id, key):
            return
        try:
            if kind == "time":
                seconds = record.get("seconds")
                if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
                    raise Refused("time on task needs seconds")
                self.store.record_offline_time(user.id, module.name, float(seconds), now, idempotency_key=key)
            elif kind == "open":
                progress.open_case(self.store, user, module, str(record.get("case")), now)
            elif kind == "test" and record.get("test") in ("pre", "post") and isinstance(record.get("choices"), dict):
                progress.take_test(self.store, user, module, record["test"], record["choices"], now, idempotency_key=key)
            elif kind == "evaluation" and isinstance(record.get("choices"), dict):
                try:
                    progress.submit_evaluation(self.store, user, module, record["choices"], now, idempotency_key=key)
                except CreditNotEarned:
                    pass  # the evaluation is recorded; credit comes once the rest is done, as online
            else:
                raise Refused(f"not a record this server takes: {str(kind)[:20]!r}")
        except progress.StepRefused as refused:
            raise Refused(refused.message) from None
        except (InputError, RecordsError) as error:
            raise Refused(str(error)) from None

    async def answer(self, user: Participant, record: dict, now: datetime) -> None:
        """A case question's answer, scored against the case's key (the page's verdict is not believed)."""
        card = await self.catalog.checked_by_id(str(record.get("case")))
        if card is None:
            raise Refused("no such case on this server")
        page = await self.case_pages.page(card)
        questions = list(page.keys)
        number = record.get("question")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < len(questions):
            raise Refused("no such question in this case (it may have changed)")
        key = page.keys[questions[number]]
        try:
            choice = key.checked(record.get("choice"))
        except InputError as error:
            raise Refused(str(error)) from None
        state = key.result(choice, 1)["state"]
        self.store.record_question_answer(user.id, card.slug, question_label(number), choice,
                                          None if state == "answered" else state == "correct", now,
                                          idempotency_key=record["key"])

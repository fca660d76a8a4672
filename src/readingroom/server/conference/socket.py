"""The conference websocket: ``/readingroom/conference/<id>/ws?token=...`` or ``?ticket=...``.

Who speaks is settled before the upgrade (a presenter token or a participant's ticket),
so a participant can never send as the presenter or as anyone else. Each outgoing message
is serialised once for all its readers. A follower whose previous write has not drained
(a slow rural link) gets no intermediate ``view`` messages, only the latest one when it
drains: one slow link never holds the room back, and nobody replays stale frames.

Attendance and answers are durable before anyone is told (:mod:`readingroom.records.durable`):
a participant's socket is welcomed once their join is in the journal, and an answer is
counted in the presenter's results and acknowledged (``saved``) to its sender only then.
When the journal cannot take it (a full disk) the sender hears ``unsaved`` and sends it
again; the presenter's console is told how many records wait for the store (``records``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import struct
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError
from tornado import web
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from readingroom.records import NotFoundError
from readingroom.records.errors import JournalError
from readingroom.records.journal import Entry
from readingroom.server.conference.messages import (
    MAX_MESSAGE_BYTES,
    PARTICIPANT,
    PARTICIPANT_RATE,
    PRESENTER,
    VOICE_TYPES,
    Allowance,
    Rejected,
    parse,
)
from readingroom.server.conference.room import EVERYONE, PARTICIPANTS, YOU, Outgoing
from readingroom.server.conference.sessions import Conference, Conferences, record_key
from readingroom.server.conference.timeline import Timelines
from readingroom.server.conference.voice import Voice, VoiceSettings

log = logging.getLogger("readingroom.conference")

HARD_LIMIT = 4 * MAX_MESSAGE_BYTES  # above this tornado closes the socket (1009); between, the message is dropped
ROSTER_DELAY = 0.5  # seconds: 200 joins in a burst send the presenter a few rosters, not 200
PING_INTERVAL_MS = 5000  # link quality in the roster
RECORDS_CHECK_MS = 1000  # how often the presenter's console hears of records waiting for the store
SAVING = "saving, will retry"  # what a page says when a record could not be kept yet


def _now() -> datetime:
    return datetime.now(UTC)


class Hub:
    """The open sockets of one conference, and how each outgoing message reaches them."""

    def __init__(self, conference: Conference, hubs: Hubs) -> None:
        self.conference, self.hubs = conference, hubs
        self.sockets: set[ConferenceSocket] = set()
        self._roster_due = False
        self._pinger = PeriodicCallback(self._ping_all, PING_INTERVAL_MS)
        self._pinger.start()

    def deliver(self, sender: ConferenceSocket | None, outgoing: Outgoing, roster_now: bool = False) -> None:
        for audience, message in outgoing:
            if message["type"] == "roster" and not roster_now:
                self.roster_soon()
                continue
            text = json.dumps(message)
            if audience == YOU:
                sender.send(text, message["type"])
                continue
            role = {PARTICIPANTS: PARTICIPANT, PRESENTER: PRESENTER}.get(audience)
            for socket in list(self.sockets):
                if audience == EVERYONE or socket.role == role:
                    socket.send(text, message["type"])

    def roster_soon(self) -> None:
        if not self._roster_due:
            self._roster_due = True
            IOLoop.current().call_later(ROSTER_DELAY, self._send_roster)

    def _send_roster(self) -> None:
        self._roster_due = False
        self.deliver(None, [(PRESENTER, self.conference.room.roster_message())], roster_now=True)

    def _ping_all(self) -> None:
        payload = struct.pack("!d", time.monotonic())
        for socket in list(self.sockets):
            if socket.role == PARTICIPANT and not socket.behind():  # a view waiting to drain must not sit behind a ping
                try:
                    socket.ping(payload)
                except WebSocketClosedError:
                    pass

    def close(self) -> None:
        self._pinger.stop()
        for socket in list(self.sockets):
            socket.close(1000, "the conference has ended")


class Hubs:
    """One hub per live conference; records go through the conferences' durable writer, and what the rooms send
    out into the sessions' timelines (for replay)."""

    def __init__(self, conferences: Conferences, timelines: Timelines, voice: Voice | None = None) -> None:
        self.conferences, self.records, self.durable = conferences, conferences.records, conferences.durable
        self.timelines = timelines
        self.voice = voice or Voice(VoiceSettings())  # voice messages go there; without Janus, pages hear it is off
        self._hubs: dict[int, Hub] = {}
        self._records_status: dict | None = None
        self._watcher: PeriodicCallback | None = None

    def hub(self, conference: Conference) -> Hub:
        if self._watcher is None:  # started here, inside the running loop
            self._watcher = PeriodicCallback(self._tell_presenters, RECORDS_CHECK_MS)
            self._watcher.start()
        if conference.id not in self._hubs:
            self._hubs[conference.id] = Hub(conference, self)
        return self._hubs[conference.id]

    async def call(self, call: Callable, *args):
        """A records store call whose result is needed now (a participant's id), on tornado's pool."""
        return await IOLoop.current().run_in_executor(None, call, *args)

    def journaled(self, entry: Entry) -> Future:
        """A future resolved once ``entry`` is durable; acknowledge it to the client only then."""
        return self.durable.submit(entry)

    def records_message(self) -> dict:
        """``{"type": "records", "waiting", "refused", "problem"}``: the presenter's console shows it."""
        return {"type": "records", **asdict(self.durable.status())}

    def _tell_presenters(self) -> None:
        message = self.records_message()
        if message == self._records_status:
            return
        if message["problem"] != (self._records_status or {}).get("problem"):
            log.warning("conference: records %s", f"wait for the store: {message['problem']}" if message["problem"]
                        else "reach the store again")
        self._records_status = message
        for hub in self._hubs.values():
            hub.deliver(None, [(PRESENTER, message)])


class ConferenceSocket(WebSocketHandler):
    """One presenter's or participant's socket."""

    def initialize(self, hubs: Hubs) -> None:
        self.hubs = hubs
        self.role = ""
        self.participant: int | None = None
        self._latest_view: str | None = None
        self._allowance, self._flooding = Allowance(), False
        self._counted = False  # this socket is in the room's connection count

    @property
    def max_message_size(self) -> int:
        return HARD_LIMIT

    async def prepare(self) -> None:
        """Settle who this is before the upgrade: a wrong token or ticket never gets a socket."""
        conference = self.hubs.conferences.by_id(int(self.path_args[0]))
        if conference is None:
            raise web.HTTPError(404, "No such conference.")
        self.conference = conference
        token, ticket = self.get_argument("token", ""), self.get_argument("ticket", "")
        if token:
            if not conference.is_presenter(token):
                raise web.HTTPError(403, "Wrong presenter token.")
            self.role, self.name = PRESENTER, "Presenter"
            return
        participant = conference.participant_of(ticket) if ticket else None
        if participant is not None and participant not in conference.names:
            await self._name_from_records(participant)  # a ticket issued before the server restarted
        if participant is None or participant not in conference.names:  # names: filled by the join API
            raise web.HTTPError(403, "Join with the conference code first.")
        self.role, self.participant, self.name = PARTICIPANT, participant, conference.names[participant]

    async def _name_from_records(self, participant: int) -> None:
        try:
            person = await self.hubs.call(self.hubs.records.participant, participant)
        except NotFoundError:
            return
        except DBAPIError:  # the store is unreachable: the page reconnects by itself
            raise web.HTTPError(503, f"The records store is unreachable: {SAVING}.") from None
        self.conference.names[participant] = person.display_name

    async def open(self, session_id: str) -> None:
        room, hub = self.conference.room, self.hubs.hub(self.conference)
        if self.role == PARTICIPANT and not room.ended:
            kind = room.connect(self.participant, self.name)
            self._counted = True
            if kind and not await self._journaled(kind):
                return
        you = {"id": self.participant, "name": self.name, "role": self.role}
        welcome = room.welcome(you)
        if self.role == PRESENTER:
            welcome["code"] = self.conference.code  # the console shows it; the code is no secret from the presenter
            welcome["records"] = self.hubs.records_message()
        welcome.update(self.hubs.voice.opened(self))
        text = json.dumps(welcome)
        self.send(f'{text[:-1]}, "agenda": {self.conference.agenda_json(self.role)}}}', "welcome")
        if room.ended:
            self.close(1000, "the conference has ended")
            return
        hub.sockets.add(self)
        hub.roster_soon()

    async def _journaled(self, kind: str) -> bool:
        """The join or reconnect is durable (True); if the journal cannot take it, close so the page retries."""
        entry = Entry(record_key(kind, self.conference.id), kind, self.conference.id, self.participant, _now())
        try:
            await asyncio.wrap_future(self.hubs.journaled(entry))
        except JournalError as error:
            log.error("conference %s: participant %s turned away for now: %s", self.conference.id, self.participant, error)
            self.conference.room.disconnect(self.participant)  # not counted: no leave follows a join never kept
            self._counted = False
            self.close(1013, f"Your attendance could not be recorded: {SAVING}.")  # 1013: try again later
            return False
        return True

    def on_message(self, raw: str | bytes) -> None:
        if self.role == PARTICIPANT and not self._allowance.take():
            if not self._flooding:  # one line per flood, not one per message
                log.warning("conference %s: dropping messages from participant %s: more than %d a second",
                            self.conference.id, self.participant, PARTICIPANT_RATE)
            self._flooding = True
            return
        self._flooding = False
        try:
            message = parse(raw, self.role)
            if message["type"] in VOICE_TYPES:
                self.hubs.voice.apply(self, message)
                return
            if message["type"] == "answer":
                self._answer(message)
                return
            outgoing = self._apply(message)
        except Rejected as reason:
            sender = self.role if self.participant is None else f"{self.role} {self.participant}"
            log.warning("conference %s: dropped a message from %s: %s", self.conference.id, sender, reason)
            return
        hub = self.hubs.hub(self.conference)
        self.hubs.timelines.observe(self.conference, outgoing)  # where the room changed: written once, not per reader
        hub.deliver(self, outgoing)
        if message["type"] == "end":
            self.hubs.conferences.end(self.conference)
            IOLoop.current().add_callback(self.hubs.voice.end, self.conference)
            hub.close()

    def _answer(self, message: dict) -> None:
        """Keep the answer durably, then count it and tell its sender ``saved`` (or ``unsaved``: send it again)."""
        room, me, poll, answer = self.conference.room, self.participant, message["poll"], message["answer"]
        if room.ended:
            raise Rejected("the conference has ended")
        room.check_answer(poll, answer)
        client_key = message.get("key") or secrets.token_hex(12)
        entry = Entry(f"answer:{self.conference.id}:{me}:{client_key}", "answer", self.conference.id, me, _now(),
                      poll, answer)
        reply = {"poll": poll, "key": message.get("key")}

        def kept(done: Future) -> None:
            if done.exception() is not None:
                self.send(json.dumps({"type": "unsaved", **reply, "error": SAVING}), "unsaved")
                return
            try:
                outgoing = room.answer(me, poll, answer)
            except Rejected:  # the poll closed while the answer was being kept: stored, not counted live
                outgoing = []
            self.hubs.hub(self.conference).deliver(self, outgoing + [(YOU, {"type": "saved", **reply})])

        IOLoop.current().add_future(self.hubs.journaled(entry), kept)

    def _apply(self, message: dict) -> Outgoing:
        room, kind, me = self.conference.room, message["type"], self.participant
        if room.ended:
            raise Rejected("the conference has ended")
        if kind == "view":
            if message["view"]["case"] not in {entry["case"] for entry in self.conference.agenda}:
                raise Rejected("view of a case not on the agenda")
            return room.publish(message["view"], message["t"])
        if kind == "ping":
            return [(YOU, {"type": "pong", "t": message["t"]})]
        actions = {
            "poll_open": lambda: room.open_poll(message["poll"]),
            "poll_close": lambda: room.close_poll(message["poll"]),
            "answered": lambda: room.mark_answered(message["question"]),
            "end": room.end,
            "ask": lambda: room.ask(me, message["text"]),
            "upvote": lambda: room.upvote(me, message["question"]),
            "following": lambda: room.set_following(me, message["value"]),
        }
        return actions[kind]()

    def on_pong(self, data: bytes) -> None:
        if self.participant is not None and len(data) == 8:
            rtt_ms = (time.monotonic() - struct.unpack("!d", data)[0]) * 1000
            self.conference.room.set_rtt(self.participant, rtt_ms)
            self.hubs.hub(self.conference).roster_soon()

    def on_close(self) -> None:
        hub = self.hubs.hub(self.conference)
        hub.sockets.discard(self)
        self.hubs.voice.closed(self)
        if not self._counted:
            return
        self._counted = False
        if self.conference.room.disconnect(self.participant) and not self.conference.room.ended:
            # a leave waits for no client: kept until the journal takes it
            self.hubs.durable.keep(Entry(record_key("leave", self.conference.id), "leave", self.conference.id,
                                         self.participant, _now()))
        hub.roster_soon()

    def send(self, text: str, kind: str) -> None:
        """Write now; a ``view`` waits (replacing any older one) while earlier data is still unsent."""
        if kind == "view" and self.behind():
            self._latest_view = text
            return
        try:
            written = self.write_message(text)
        except WebSocketClosedError:
            return
        written.add_done_callback(self._drained)

    def behind(self) -> bool:
        """True while the socket's buffer holds data the client has not taken (a slow or stalled link)."""
        connection = self.ws_connection
        return connection is not None and connection.stream.writing()  # type: ignore[attr-defined]

    def _drained(self, written) -> None:
        if written.exception() is not None:  # the socket closed meanwhile; on_close tidies up
            return
        if self._latest_view is not None and not self.behind():
            text, self._latest_view = self._latest_view, None
            self.send(text, "view")

"""The conference websocket: ``/readingroom/conference/<id>/ws?token=...`` or ``?ticket=...``.

Who speaks is settled before the upgrade (a presenter token or a participant's ticket),
so a participant can never send as the presenter or as anyone else. Each outgoing message
is serialised once for all its readers. A follower whose previous write has not drained
(a slow rural link) gets no intermediate ``view`` messages, only the latest one when it
drains: one slow link never holds the room back, and nobody replays stale frames.
Attendance and answers are written on one records thread, in order, off the event loop.
"""

from __future__ import annotations

import json
import logging
import struct
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from tornado import web
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from readingroom.records import RecordsStore
from readingroom.server.conference.messages import (
    MAX_MESSAGE_BYTES,
    PARTICIPANT,
    PARTICIPANT_RATE,
    PRESENTER,
    Allowance,
    Rejected,
    parse,
)
from readingroom.server.conference.room import EVERYONE, PARTICIPANTS, YOU, Outgoing
from readingroom.server.conference.sessions import Conference, Conferences

log = logging.getLogger("readingroom.conference")

HARD_LIMIT = 4 * MAX_MESSAGE_BYTES  # above this tornado closes the socket (1009); between, the message is dropped
ROSTER_DELAY = 0.5  # seconds: 200 joins in a burst send the presenter a few rosters, not 200
PING_INTERVAL_MS = 5000  # link quality in the roster


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
    """One hub per live conference, plus the single thread that writes attendance and answers."""

    def __init__(self, conferences: Conferences, records: RecordsStore) -> None:
        self.conferences, self.records = conferences, records
        self._hubs: dict[int, Hub] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readingroom-records")

    def hub(self, conference: Conference) -> Hub:
        if conference.id not in self._hubs:
            self._hubs[conference.id] = Hub(conference, self)
        return self._hubs[conference.id]

    def record(self, write: Callable, *args) -> Future:
        """Run a records write in order on the records thread; a failure is logged, never lost silently."""
        future = self._writer.submit(write, *args)
        future.add_done_callback(_log_failure)
        return future

    async def read(self, read: Callable, *args):
        """A records read, on tornado's pool: it need not wait behind the queue of writes."""
        return await IOLoop.current().run_in_executor(None, read, *args)

    async def write(self, write: Callable, *args):
        """A records write whose result is needed now (a new participant's id), in order with the others."""
        return await IOLoop.current().run_in_executor(self._writer, write, *args)


def _log_failure(future: Future) -> None:
    if future.exception() is not None:
        log.error("conference: a records write failed: %s", future.exception())


class ConferenceSocket(WebSocketHandler):
    """One presenter's or participant's socket."""

    def initialize(self, hubs: Hubs) -> None:
        self.hubs = hubs
        self.role = ""
        self.participant: int | None = None
        self._latest_view: str | None = None
        self._allowance, self._flooding = Allowance(), False

    @property
    def max_message_size(self) -> int:
        return HARD_LIMIT

    def prepare(self) -> None:
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
        if participant is None or participant not in conference.names:  # names: filled by the join API
            raise web.HTTPError(403, "Join with the conference code first.")
        self.role, self.participant, self.name = PARTICIPANT, participant, conference.names[participant]

    def open(self, session_id: str) -> None:
        room, hub = self.conference.room, self.hubs.hub(self.conference)
        you = {"id": self.participant, "name": self.name, "role": self.role}
        welcome = room.welcome(you)
        if self.role == PRESENTER:
            welcome["code"] = self.conference.code  # the console shows it; the code is no secret from the presenter
        text = json.dumps(welcome)
        self.send(f'{text[:-1]}, "agenda": {self.conference.agenda_json(self.role)}}}', "welcome")
        if room.ended:
            self.close(1000, "the conference has ended")
            return
        hub.sockets.add(self)
        if self.role == PARTICIPANT:
            kind = room.connect(self.participant, self.name)
            write = {"join": self.hubs.records.record_join, "reconnect": self.hubs.records.record_reconnect}.get(kind)
            if write:
                self.hubs.record(write, self.conference.id, self.participant, _now())
        hub.roster_soon()

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
            outgoing = self._apply(message)
        except Rejected as reason:
            sender = self.role if self.participant is None else f"{self.role} {self.participant}"
            log.warning("conference %s: dropped a message from %s: %s", self.conference.id, sender, reason)
            return
        hub = self.hubs.hub(self.conference)
        hub.deliver(self, outgoing)
        if message["type"] == "end":
            self.hubs.record(self.hubs.conferences.end, self.conference)
            hub.close()

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
        if kind == "answer":
            outgoing = room.answer(me, message["poll"], message["answer"])
            self.hubs.record(self.hubs.records.record_poll_answer, self.conference.id, me, message["poll"],
                             message["answer"], _now())
            return outgoing
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
        if self not in hub.sockets:
            return
        hub.sockets.discard(self)
        if self.role == PARTICIPANT and self.conference.room.disconnect(self.participant):
            self.hubs.record(self.hubs.records.record_leave, self.conference.id, self.participant, _now())
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

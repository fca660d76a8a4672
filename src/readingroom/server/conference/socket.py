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

Every message for more than its sender goes through the rooms' fan-out (:mod:`.rooms`): in
this process, or through Redis to every process serving the conference, each of which hands
it to its own sockets. When Redis cannot be reached, the sockets close (1011) and their
pages reconnect by themselves until it is back.
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
    Allowance,
    Rejected,
    parse,
)
from readingroom.server.conference.room import (
    EVERYONE,
    PARTICIPANTS,
    YOU,
    Outgoing,
    one,
)
from readingroom.server.conference.rooms import RoomsUnavailable
from readingroom.server.conference.sessions import Conference, Conferences, record_key

log = logging.getLogger("readingroom.conference")

HARD_LIMIT = 4 * MAX_MESSAGE_BYTES  # above this tornado closes the socket (1009); between, the message is dropped
ROSTER_DELAY = 0.5  # seconds: 200 joins in a burst send the presenter a few rosters, not 200
PING_INTERVAL_MS = 5000  # link quality in the roster
RECORDS_CHECK_MS = 1000  # how often the presenter's console hears of records waiting for the store
SAVING = "saving, will retry"  # what a page says when a record could not be kept yet
ROOMS_AWAY = "the conference's room store is unreachable: reconnecting"  # a close reason (1011)


def _now() -> datetime:
    return datetime.now(UTC)


class Hub:
    """The open sockets of one conference in this process, and how each message reaches them."""

    def __init__(self, conference: Conference, hubs: Hubs) -> None:
        self.conference, self.hubs = conference, hubs
        self.sockets: set[ConferenceSocket] = set()
        self._roster_due = False
        self._roster_sending = self._roster_again = False
        self._pinger = PeriodicCallback(self._ping_all, PING_INTERVAL_MS)
        self._pinger.start()

    async def deliver(self, sender: ConferenceSocket | None, outgoing: Outgoing) -> None:
        """The sender's own messages now; the rest to every process serving the conference (this one too)."""
        for audience, message in outgoing:
            if audience == YOU:
                sender.send(json.dumps(message), message["type"])
        shared = [(audience, message) for audience, message in outgoing if audience != YOU]
        if shared:
            await self.hubs.rooms.send(self.conference.id, shared)

    def receive(self, outgoing: Outgoing) -> None:
        """Messages from the fan-out, to this process's sockets; a roster is made fresh here, for its presenters."""
        for audience, message in outgoing:
            if message["type"] == "roster":
                self._send_roster()
                continue
            self.local(audience, message)

    def local(self, audience: str, message: dict) -> None:
        """``message`` to the sockets here that ``audience`` names (a role, everyone, or :func:`~.room.one`)."""
        text = json.dumps(message)
        role = {PARTICIPANTS: PARTICIPANT, PRESENTER: PRESENTER}.get(audience)
        for socket in list(self.sockets):
            if audience == EVERYONE or socket.role == role or (
                    socket.participant is not None and audience == one(socket.participant)):
                socket.send(text, message["type"])

    def roster_soon(self) -> None:
        """The roster changed: the presenter hears of it within ROSTER_DELAY, once for a burst of changes."""
        if not self._roster_due:
            self._roster_due = True
            IOLoop.current().call_later(ROSTER_DELAY, self._roster_changed)

    async def _roster_changed(self) -> None:
        self._roster_due = False
        try:
            await self.hubs.rooms.send(self.conference.id, [(PRESENTER, {"type": "roster"})])
        except RoomsUnavailable:
            pass  # the presenter reconnects and gets it then

    def _send_roster(self) -> None:
        """The roster, read now, to the presenters here; a change heard while it is read is read again after."""
        if not any(socket.role == PRESENTER for socket in self.sockets):
            return
        if self._roster_sending:
            self._roster_again = True
            return
        self._roster_sending = True

        async def send() -> None:
            try:
                while True:
                    self._roster_again = False
                    self.local(PRESENTER, await self.conference.room.roster_message())
                    if not self._roster_again:
                        break
            except RoomsUnavailable:
                pass
            finally:
                self._roster_sending = False

        IOLoop.current().spawn_callback(send)

    def _ping_all(self) -> None:
        payload = struct.pack("!d", time.monotonic())
        for socket in list(self.sockets):
            if socket.role == PARTICIPANT and not socket.behind():  # a view waiting to drain must not sit behind a ping
                try:
                    socket.ping(payload)
                except WebSocketClosedError:
                    pass

    def close(self, code: int = 1000, reason: str = "the conference has ended") -> None:
        for socket in list(self.sockets):
            socket.close(code, reason)

    def end(self) -> None:
        self._pinger.stop()
        self.close()


class Hubs:
    """One hub per conference this process serves; records go through the conferences' durable writer."""

    def __init__(self, conferences: Conferences) -> None:
        self.conferences, self.records, self.durable = conferences, conferences.records, conferences.durable
        self.rooms = conferences.rooms
        self._hubs: dict[int, Hub] = {}
        self._records_status: dict | None = None
        self._watcher: PeriodicCallback | None = None
        self.rooms.watch(self._gone, self._lost)

    async def hub(self, conference: Conference) -> Hub:
        """The conference's hub, once this process hears the conference's messages (RoomsUnavailable if it cannot)."""
        if self._watcher is None:  # started here, inside the running loop
            self._watcher = PeriodicCallback(self._tell_presenters, RECORDS_CHECK_MS)
            self._watcher.start()
        try:
            await self.rooms.listen(self._receive)
        except TimeoutError:
            raise RoomsUnavailable("not listening to the conference's messages yet") from None
        if conference.id not in self._hubs:
            self._hubs[conference.id] = Hub(conference, self)
        return self._hubs[conference.id]

    def _receive(self, session_id: int, outgoing: Outgoing) -> None:
        hub = self._hubs.get(session_id)
        if hub is not None:
            hub.receive(outgoing)
            if any(message["type"] == "ended" for _, message in outgoing):
                hub.end()

    def existing(self, session_id: int) -> Hub | None:
        """The conference's hub if a socket of it was ever opened here."""
        return self._hubs.get(session_id)

    def _gone(self, session_id: int, participants: list[int]) -> None:
        """A dead process's participants who did not come back here or elsewhere: they leave now."""
        self.conferences.left(session_id, participants)
        hub = self._hubs.get(session_id)
        if hub is not None:
            hub.roster_soon()

    def _lost(self, back: bool) -> None:
        """Redis went away: every socket closes, so each page reconnects (refused until Redis is back)."""
        if not back:
            for hub in self._hubs.values():
                hub.close(1011, ROOMS_AWAY)

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
        """This process's records status to the presenters connected here (each process has its own journal)."""
        message = self.records_message()
        if message == self._records_status:
            return
        if message["problem"] != (self._records_status or {}).get("problem"):
            log.warning("conference: records %s", f"wait for the store: {message['problem']}" if message["problem"]
                        else "reach the store again")
        self._records_status = message
        for hub in self._hubs.values():
            hub.local(PRESENTER, message)


class ConferenceSocket(WebSocketHandler):
    """One presenter's or participant's socket."""

    def initialize(self, hubs: Hubs) -> None:
        self.hubs = hubs
        self.role = ""
        self.participant: int | None = None
        self._latest_view: str | None = None
        self._allowance, self._flooding = Allowance(), False
        self._counted = False  # this socket is in the room's connection count
        self._held: list[tuple[str, str]] | None = []  # what arrived for it before its welcome went out

    @property
    def max_message_size(self) -> int:
        return HARD_LIMIT

    async def prepare(self) -> None:
        """Settle who this is before the upgrade: a wrong token or ticket never gets a socket."""
        try:
            conference = await self.hubs.conferences.find(int(self.path_args[0]))
        except RoomsUnavailable as error:
            log.warning("conference %s: refused a socket for now: %s", self.path_args[0], error)
            raise web.HTTPError(503, f"The conference is unreachable for a moment: {ROOMS_AWAY}.") from None
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
            await self._name_from_records(participant)  # a ticket issued elsewhere, or before the server restarted
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
        try:
            await self._open()
        except RoomsUnavailable as error:
            self._rooms_away(error)

    async def _open(self) -> None:
        room, hub = self.conference.room, await self.hubs.hub(self.conference)
        ended = await room.ended()
        if self.role == PARTICIPANT and not ended:
            kind = await room.connect(self.participant, self.name)
            self._counted = True
            if kind and not await self._journaled(kind):
                return
        you = {"id": self.participant, "name": self.name, "role": self.role}
        hub.sockets.add(self)  # before the welcome is read: nothing sent meanwhile is missed (it is held back)
        welcome = await room.welcome(you)
        if self.role == PRESENTER:
            welcome["code"] = self.conference.code  # the console shows it; the code is no secret from the presenter
            welcome["records"] = self.hubs.records_message()
        text = json.dumps(welcome)
        self.send(f'{text[:-1]}, "agenda": {self.conference.agenda_json(self.role)}}}', "welcome")
        held, self._held = self._held or [], None
        for text, kind in held:  # a view older than the welcome's is dropped by the page (its seq)
            self.send(text, kind)
        if welcome["ended"]:
            hub.sockets.discard(self)
            self.close(1000, "the conference has ended")
            return
        hub.roster_soon()

    async def _journaled(self, kind: str) -> bool:
        """The join or reconnect is durable (True); if the journal cannot take it, close so the page retries."""
        entry = Entry(record_key(kind, self.conference.id), kind, self.conference.id, self.participant, _now())
        try:
            await asyncio.wrap_future(self.hubs.journaled(entry))
        except JournalError as error:
            log.error("conference %s: participant %s turned away for now: %s", self.conference.id, self.participant, error)
            self._counted = False
            await self.conference.room.disconnect(self.participant)  # not counted: no leave follows a join never kept
            self.close(1013, f"Your attendance could not be recorded: {SAVING}.")  # 1013: try again later
            return False
        return True

    def _rooms_away(self, error: Exception) -> None:
        log.warning("conference %s: closing a socket: %s", self.conference.id, error)
        self.close(1011, ROOMS_AWAY)

    def on_message(self, raw: str | bytes):
        """A malformed or forbidden message is dropped at once; a valid one is applied (tornado waits for it
        before the socket's next message, so each socket's messages keep their order)."""
        if self.role == PARTICIPANT and not self._allowance.take():
            if not self._flooding:  # one line per flood, not one per message
                log.warning("conference %s: dropping messages from participant %s: more than %d a second",
                            self.conference.id, self.participant, PARTICIPANT_RATE)
            self._flooding = True
            return None
        self._flooding = False
        try:
            message = parse(raw, self.role)
        except Rejected as reason:
            self._dropped(reason)
            return None
        return self._handle(message)

    def _dropped(self, reason: Rejected) -> None:
        sender = self.role if self.participant is None else f"{self.role} {self.participant}"
        log.warning("conference %s: dropped a message from %s: %s", self.conference.id, sender, reason)

    async def _handle(self, message: dict) -> None:
        try:
            if message["type"] == "answer":
                await self._answer(message)
                return
            outgoing = await self._apply(message)
            if message["type"] == "end":  # leaves for whoever is connected, before their sockets hear it and close
                await self.hubs.conferences.end(self.conference)
            hub = await self.hubs.hub(self.conference)
            await hub.deliver(self, outgoing)
        except Rejected as reason:
            self._dropped(reason)
        except RoomsUnavailable as error:
            self._rooms_away(error)

    async def _answer(self, message: dict) -> None:
        """Keep the answer durably, then count it and tell its sender ``saved`` (or ``unsaved``: send it again)."""
        room, me, poll, answer = self.conference.room, self.participant, message["poll"], message["answer"]
        if await room.ended():
            raise Rejected("the conference has ended")
        await room.check_answer(poll, answer)
        client_key = message.get("key") or secrets.token_hex(12)
        entry = Entry(f"answer:{self.conference.id}:{me}:{client_key}", "answer", self.conference.id, me, _now(),
                      poll, answer)
        reply = {"poll": poll, "key": message.get("key")}
        try:
            await asyncio.wrap_future(self.hubs.journaled(entry))
        except Exception:  # noqa: BLE001  (the journal could not keep it: the page sends it again)
            self.send(json.dumps({"type": "unsaved", **reply, "error": SAVING}), "unsaved")
            return
        try:
            outgoing = await room.answer(me, poll, answer)
        except Rejected:  # the poll closed while the answer was being kept: stored, not counted live
            outgoing = []
        hub = await self.hubs.hub(self.conference)
        await hub.deliver(self, outgoing + [(YOU, {"type": "saved", **reply})])

    async def _apply(self, message: dict) -> Outgoing:
        room, kind, me = self.conference.room, message["type"], self.participant
        if kind == "ping":
            return [(YOU, {"type": "pong", "t": message["t"]})]
        if await room.ended():
            raise Rejected("the conference has ended")
        if kind == "view":
            if message["view"]["case"] not in {entry["case"] for entry in self.conference.agenda}:
                raise Rejected("view of a case not on the agenda")
            return await room.publish(message["view"], message["t"])
        actions = {
            "poll_open": lambda: room.open_poll(message["poll"]),
            "poll_close": lambda: room.close_poll(message["poll"]),
            "answered": lambda: room.mark_answered(message["question"]),
            "end": room.end,
            "ask": lambda: room.ask(me, message["text"]),
            "upvote": lambda: room.upvote(me, message["question"]),
            "following": lambda: room.set_following(me, message["value"]),
        }
        return await actions[kind]()

    def on_pong(self, data: bytes) -> None:
        if self.participant is not None and len(data) == 8:
            rtt_ms = (time.monotonic() - struct.unpack("!d", data)[0]) * 1000
            IOLoop.current().spawn_callback(self._rtt, rtt_ms)

    async def _rtt(self, rtt_ms: float) -> None:
        try:
            await self.conference.room.set_rtt(self.participant, rtt_ms)
        except RoomsUnavailable:
            return
        hub = self.hubs.existing(self.conference.id)
        if hub is not None:
            hub.roster_soon()

    def on_close(self) -> None:
        IOLoop.current().spawn_callback(self._closed)

    async def _closed(self) -> None:
        hub = self.hubs.existing(self.conference.id) if hasattr(self, "conference") else None
        if hub is not None:
            hub.sockets.discard(self)
        if not self._counted:
            return
        self._counted = False
        room = self.conference.room
        try:
            left = await room.disconnect(self.participant)
            if left and not await room.ended():
                # a leave waits for no client: kept until the journal takes it
                self.hubs.durable.keep(Entry(record_key("leave", self.conference.id), "leave", self.conference.id,
                                             self.participant, _now()))
        except RoomsUnavailable:
            return  # this process's counts are let go of when Redis is back (RedisRooms._read_bus)
        if hub is not None:
            hub.roster_soon()

    def send(self, text: str, kind: str) -> None:
        """Write now; a ``view`` waits (replacing any older one) while earlier data is still unsent."""
        if self._held is not None and kind != "welcome":
            self._held.append((text, kind))
            return
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

"""Voice in a live conference: Janus's AudioBridge mixes, the serving app signals and decides who speaks.

Browsers never talk to Janus's API: a page sends its SDP offer on the conference socket
(``voice_offer``), the server attaches an AudioBridge handle for that socket, joins the
session's room *muted* and hands the page Janus's answer (``voice_answer``); media then flow
between the browser and Janus directly. Only the server holds the room's secret and unmutes
anyone: the presenter when they open their microphone, a participant while holding the
floor (:mod:`.voice_floor`). One room per session, created when its first page connects and
destroyed when the session ends; it records its mix into the session's recording folder
(:mod:`.recordings`) unless recording is off.

When Janus cannot be reached, every page is told (``voice`` with ``available: false``) and
the conference carries on without voice: nothing here is on the path of views or polls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from readingroom.server.conference import recordings
from readingroom.server.conference.janus_api import JanusError, JanusSession
from readingroom.server.conference.messages import PARTICIPANT, PRESENTER
from readingroom.server.conference.room import EVERYONE
from readingroom.server.conference.voice_floor import Floor

log = logging.getLogger("readingroom.voice")

SAMPLING_RATE = 16000  # wideband: speech, at the bitrates below
DEFAULT_BITRATE = 24000  # bits/s of each listener's Opus mix (mono)
EXPECTED_LOSS = 10  # percent: turns on Opus in-band FEC, so speech survives a lossy rural link
RETRY_SECONDS = 5.0  # while Janus is gone, how often the server asks again


@dataclass
class VoiceSettings:
    """What `conference start` says about voice; ``janus_url`` empty means voice is off."""

    janus_url: str = ""
    api_secret: str = field(default="", repr=False)
    admin_key: str = field(default="", repr=False)
    ice_servers: list[dict] = field(default_factory=list)  # RTCPeerConnection's iceServers, handed to pages
    bitrate: int = DEFAULT_BITRATE
    record: bool = True
    recordings_root: Path = field(default_factory=recordings.default_root)


@dataclass
class VoiceRoom:
    """One session's AudioBridge room: its id and secret, each connection's handle, and the floor."""

    hub: object  # the conference's socket hub (readingroom.server.conference.socket.Hub)
    number: int = field(default_factory=lambda: secrets.randbelow(2**52) + 1)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    handles: dict[object, int] = field(default_factory=dict)  # socket -> Janus handle
    floor: Floor = field(default_factory=Floor)
    anchor: int | None = None  # the server's own member, keeping the recording in step (see Voice._create)
    ready: asyncio.Future | None = None


class Voice:
    """Voice for every conference of one serving process."""

    def __init__(self, settings: VoiceSettings) -> None:
        self.settings = settings
        self.rooms: dict[int, VoiceRoom] = {}
        self._session: JanusSession | None = None
        self._opening: asyncio.Future | None = None
        self._running: set[asyncio.Future] = set()  # the loop holds tasks weakly: these must not vanish mid-way
        self.available = bool(settings.janus_url)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.janus_url)

    # Hooks the socket calls

    def opened(self, socket, ended: bool) -> dict:
        """A page connects: its session's room is started (the first time, unless the session ``ended``); what its
        welcome says of voice."""
        room = self._room(socket, ended)
        fields = {"voice": {k: v for k, v in self._voice_message().items() if k != "type"}}
        if socket.role == PRESENTER:
            fields["voice_state"] = {k: v for k, v in self._state(room).items() if k != "type"}
        return fields

    def closed(self, socket) -> None:
        room = self.rooms.get(socket.conference.id)
        if room is None:
            return
        handle = room.handles.pop(socket, None)
        was_listening = room.floor.listening.pop(socket, None) is not None
        if socket.participant is not None and not self._connected(room, socket.participant):
            room.floor.raise_hand(socket.participant, "", False)  # gone: their hand and floor go with them
            room.floor.take_back(socket.participant)
        if handle is not None and self._session is not None and not self._session.closed:
            self._background(self._quietly(self._session.detach(handle)))
        if was_listening or handle is not None:
            self._tell_presenter(room)

    def apply(self, socket, message: dict) -> None:
        """A voice message from a page (checked by :mod:`.messages`); the work runs in the background."""
        self._background(self._apply(socket, message))

    async def end(self, conference) -> None:
        """The session ended: its room goes (Janus closes the recording), every handle with it."""
        room = self.rooms.pop(conference.id, None)
        if room is None or self._session is None or self._session.closed:
            return
        await self._quietly(self._request_admin(room, {"request": "destroy"}))
        for handle in [*room.handles.values(), *([room.anchor] if room.anchor else [])]:
            await self._quietly(self._session.detach(handle))

    # What the pages asked for

    async def _apply(self, socket, message: dict) -> None:
        if await socket.conference.room.ended():
            return
        room = self._room(socket, ended=False)
        kind = message["type"]
        try:
            if kind == "voice_offer":
                await self._offer(room, socket, message["sdp"])
            elif kind == "voice_stop":
                self.closed(socket)
            elif kind == "hand":
                if room.floor.raise_hand(socket.participant, socket.name, message["value"]):
                    self._tell_presenter(room)
            elif kind == "mic":
                room.floor.mic = message["value"]
                await self._apply_floor(room, [None])
            elif kind == "mute_all":
                holder = room.floor.mute_all()
                await self._mute_everyone(room)
                if holder is not None:
                    self._tell_participant(room, holder, {"type": "floor", "value": False})
            elif kind == "floor":
                await self._floor(room, message["participant"], message["value"])
        except JanusError as error:
            log.warning("voice: conference %s: %s", room.hub.conference.id, error)
            if kind == "voice_offer":
                socket.send(json.dumps({"type": "voice_failed", "error": "Voice is unavailable right now."}),
                            "voice_failed")
        self._tell_presenter(room)

    async def _offer(self, room: VoiceRoom, socket, sdp: str) -> None:
        session = await self._ready(room)
        old = room.handles.pop(socket, None)  # a page renegotiating from scratch (it reloaded its connection)
        if old is not None:
            await self._quietly(session.detach(old))
        handle = await session.attach()
        room.handles[socket] = handle
        muted = not room.floor.may_speak(socket.participant)
        join = {"request": "join", "room": room.number, "muted": muted, "bitrate": self.settings.bitrate,
                "expected_loss": EXPECTED_LOSS}
        await session.message(handle, join)
        _, answer = await session.message(handle, {"request": "configure", "muted": muted},
                                          {"type": "offer", "sdp": sdp, "trickle": False})
        if answer is None:
            raise JanusError("the AudioBridge sent no SDP answer")
        socket.send(json.dumps({"type": "voice_answer", "sdp": answer["sdp"]}), "voice_answer")

    async def _floor(self, room: VoiceRoom, participant: int, value: bool) -> None:
        if value and participant not in room.hub.conference.names:
            return  # nobody of this conference: nothing to give
        if value:
            before = room.floor.give(participant)
            if before is not None:
                self._tell_participant(room, before, {"type": "floor", "value": False})
            await self._apply_floor(room, [p for p in (before, participant) if p is not None])
        elif room.floor.take_back(participant):
            await self._apply_floor(room, [participant])
        self._tell_participant(room, participant, {"type": "floor", "value": room.floor.holder == participant})

    async def _apply_floor(self, room: VoiceRoom, who: list[int | None]) -> None:
        """Mute or unmute every connection of each of ``who`` as the floor now says."""
        if self._session is None or self._session.closed:
            return
        for socket, handle in list(room.handles.items()):
            if socket.participant in who:
                await self._session.message(handle, {"request": "configure",
                                                     "muted": not room.floor.may_speak(socket.participant)})

    async def _mute_everyone(self, room: VoiceRoom) -> None:
        if self._session is None or self._session.closed:
            return
        for handle in list(room.handles.values()):
            await self._session.message(handle, {"request": "configure", "muted": True})

    # The room and the Janus session

    def _room(self, socket, ended: bool) -> VoiceRoom:
        conference = socket.conference
        room = self.rooms.get(conference.id)
        if room is None:
            hub = socket.hubs.existing(conference.id)  # the socket is open: its hub is there
            room = self.rooms[conference.id] = VoiceRoom(hub)
            if not self.settings.record:
                _mark_not_recorded(self.settings.recordings_root, conference.id)
            if self.enabled and not ended:  # a late page of an ended session makes no room
                room.ready = asyncio.ensure_future(self._create(room))
                room.ready.add_done_callback(lambda done: done.cancelled() or done.exception())  # reported by _ready
        return room

    async def _create(self, room: VoiceRoom) -> None:
        try:
            session = await self._open_session()
        except JanusError as error:
            self._lost(str(error))
            raise
        conference_id = room.hub.conference.id
        create = {"request": "create", "room": room.number, "secret": room.secret, "is_private": True,
                  "sampling_rate": SAMPLING_RATE, "default_bitrate": self.settings.bitrate,
                  "default_expectedloss": EXPECTED_LOSS, "audiolevel_event": False,
                  **({"admin_key": self.settings.admin_key} if self.settings.admin_key else {})}
        folder = recordings.session_folder(self.settings.recordings_root, conference_id)
        recording = self.settings.record and not (folder / recordings.VOICE).exists()
        if self.settings.record and not recording:  # a room made again after Janus came back: keep what was said
            log.warning("voice: conference %s: Janus came back; the rest of the session is not recorded, so "
                        "%s keeps what it holds", conference_id, folder / recordings.VOICE)
        if recording:
            folder.mkdir(parents=True, exist_ok=True)
            create.update(record=True, record_file=str((folder / recordings.VOICE).resolve()))
        handle = await session.attach()
        try:
            await session.request(handle, create)
            if recording:
                # The mixer writes only while someone is in the room, which would cut the silences before the
                # first listener out of the file and put the audio out of step with the session. A member with
                # no media, the server's own, keeps it writing from now on: voice.json's moment is the file's start.
                await session.message(handle, {"request": "join", "room": room.number, "muted": True})
                room.anchor = handle
                _write_started(folder)
        finally:
            if room.anchor != handle:
                await self._quietly(session.detach(handle))
        log.info("voice: conference %s has its AudioBridge room%s", conference_id, " (recording)" if recording else "")

    async def _ready(self, room: VoiceRoom) -> JanusSession:
        if not self.enabled:
            raise JanusError("voice is off in this conference")
        if room.ready is None or (room.ready.done() and (room.ready.cancelled() or room.ready.exception())):
            room.ready = asyncio.ensure_future(self._create(room))  # Janus is back: a new room
        await room.ready
        return self._session

    async def _open_session(self) -> JanusSession:
        if self._session is not None and not self._session.closed:
            return self._session
        if self._opening is None or self._opening.done():
            self._opening = asyncio.ensure_future(
                JanusSession.open(self.settings.janus_url, self.settings.api_secret, self._event, self._lost))
        self._session = await self._opening
        if not self.available:
            self.available = True
            log.warning("voice: Janus answers again at %s", self.settings.janus_url)
            self._tell_everyone()
        return self._session

    def _event(self, handle: int, event: dict) -> None:
        """``webrtcup``: that connection is listening; ``hangup``: it stopped."""
        kind = event.get("janus")
        if kind not in ("webrtcup", "hangup"):
            return
        for room in self.rooms.values():
            for socket, known in room.handles.items():
                if known == handle:
                    if kind == "webrtcup":
                        room.floor.listening[socket] = socket.participant
                    else:
                        room.floor.listening.pop(socket, None)
                    self._tell_presenter(room)
                    return

    def _lost(self, reason: str) -> None:
        """Janus is gone: every page hears voice is unavailable; rooms are made anew if it comes back."""
        if not self.available:
            return
        log.error("voice: %s; the conference goes on without voice", reason)
        self.available = False
        for room in self.rooms.values():
            room.handles.clear()
            room.floor.listening.clear()
            room.ready, room.anchor = None, None
        self._tell_everyone()
        self._background(self._reconnect())

    async def _reconnect(self) -> None:
        """Ask Janus again until it answers; then pages hear voice is back (rooms are made on the next offer)."""
        while not self.available:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                await self._open_session()
            except JanusError:
                continue

    # Telling pages

    def _voice_message(self) -> dict:
        """``recorded``: the room records (it is created so); participants are told before anyone speaks."""
        return {"type": "voice", "available": self.enabled and self.available, "enabled": self.enabled,
                "recorded": self.enabled and self.settings.record, "ice_servers": self.settings.ice_servers}

    def _state(self, room: VoiceRoom) -> dict:
        return room.floor.state(self.enabled and self.available)

    def _tell_everyone(self) -> None:
        for room in self.rooms.values():
            room.hub.local(EVERYONE, self._voice_message())
            self._tell_presenter(room)

    def _tell_presenter(self, room: VoiceRoom) -> None:
        room.hub.local(PRESENTER, self._state(room))

    def _tell_participant(self, room: VoiceRoom, participant: int, message: dict) -> None:
        text = json.dumps(message)
        for socket in list(room.hub.sockets):
            if socket.role == PARTICIPANT and socket.participant == participant:
                socket.send(text, message["type"])

    def _connected(self, room: VoiceRoom, participant: int) -> bool:
        return any(s.participant == participant for s in room.hub.sockets)

    async def _request_admin(self, room: VoiceRoom, body: dict) -> dict:
        handle = await self._session.attach()
        try:
            return await self._session.request(handle, {**body, "room": room.number, "secret": room.secret})
        finally:
            await self._quietly(self._session.detach(handle))

    def _background(self, work) -> asyncio.Future:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    @staticmethod
    async def _quietly(call) -> None:
        try:
            await call
        except JanusError:
            pass


def _write_started(folder: Path) -> None:
    """voice.json: when Janus began writing the mix, so replay puts audio and timeline in step."""
    temporary = folder / f".{recordings.VOICE_STARTED}.tmp"
    temporary.write_text(json.dumps({"started_at": time.time()}))
    temporary.replace(folder / recordings.VOICE_STARTED)


def _mark_not_recorded(root: Path, session_id: int) -> None:
    folder = recordings.session_folder(root, session_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / recordings.NOT_RECORDED).touch()

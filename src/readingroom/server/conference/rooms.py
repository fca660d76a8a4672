"""One interface to a conference room wherever its state lives, and how its messages reach every socket.

The socket (:mod:`.socket`) talks to a :class:`LiveRoom` and a :class:`Rooms`; two kinds exist:

- in this process (:class:`LocalRooms`, the default): the room is :class:`~.room.Room` itself,
  and a message reaches the sockets of this process;
- in Redis (:class:`~.rooms_redis.RedisRooms`, with ``--redis``): any process can serve any
  participant or the presenter of any conference; messages fan out to every process.

Every method is a coroutine and returns what :class:`~.room.Room` returns: ``(audience, message)``
pairs for :meth:`Rooms.send`, or raises :class:`~.messages.Rejected`.

A part of the room that a later feature adds (hands raised, who has the floor) needs no new
method here: :meth:`LiveRoom.change` applies a pure function to a named JSON part, atomically
across processes, and :meth:`LiveRoom.part` reads it (for a welcome).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable

from readingroom.server.conference.messages import Rejected
from readingroom.server.conference.room import Outgoing, Room


class RoomsUnavailable(RuntimeError):
    """Where the rooms live cannot be reached now (Redis is away): the socket closes, its client reconnects."""


Deliver = Callable[[int, Outgoing], None]  # (session id, messages): to the sockets of this process
Change = Callable[[dict], tuple[dict, Outgoing]]  # a part's state in, (its new state, what to send) out
Gone = Callable[[int, list[int]], None]  # (session id, participants who left with a dead process)
Lost = Callable[[bool], None]  # the rooms' store unreachable (False) or back (True)


class LiveRoom(ABC):
    """One session's live state: see :class:`~.room.Room` for what each method means."""

    @abstractmethod
    async def connect(self, participant: int, name: str) -> str: ...

    @abstractmethod
    async def disconnect(self, participant: int) -> bool: ...

    @abstractmethod
    async def welcome(self, you: dict) -> dict: ...

    @abstractmethod
    async def publish(self, view: dict, t: float | None) -> Outgoing: ...

    @abstractmethod
    async def open_poll(self, poll: dict) -> Outgoing: ...

    @abstractmethod
    async def close_poll(self, poll_id: str) -> Outgoing: ...

    @abstractmethod
    async def mark_answered(self, question: int) -> Outgoing: ...

    @abstractmethod
    async def end(self) -> Outgoing: ...

    @abstractmethod
    async def check_answer(self, poll_id: str, answer: int | dict) -> None: ...

    @abstractmethod
    async def answer(self, participant: int, poll_id: str, answer: int | dict) -> Outgoing: ...

    @abstractmethod
    async def ask(self, participant: int, text: str) -> Outgoing: ...

    @abstractmethod
    async def upvote(self, participant: int, question: int) -> Outgoing: ...

    @abstractmethod
    async def set_following(self, participant: int, value: bool) -> Outgoing: ...

    @abstractmethod
    async def set_rtt(self, participant: int, rtt_ms: float) -> None: ...

    @abstractmethod
    async def roster_message(self) -> dict: ...

    @abstractmethod
    async def ended(self) -> bool: ...

    @abstractmethod
    async def view(self) -> dict | None:
        """The presenter's last snapshot (its ``stage`` says how far the case is revealed)."""

    @abstractmethod
    async def connected(self) -> list[int]:
        """Participants with a socket open (on any process)."""

    @abstractmethod
    async def part(self, name: str) -> dict:
        """A named part of the room's state added by a feature (``{}`` until first changed)."""

    @abstractmethod
    async def change(self, name: str, change: Change) -> Outgoing:
        """Apply ``change`` to the part ``name`` atomically (no other process changes it meanwhile)."""


class Rooms(ABC):
    """The rooms this process serves and their fan-out: :meth:`send` reaches every socket of the conference."""

    @abstractmethod
    def room(self, session_id: int) -> LiveRoom: ...

    @abstractmethod
    async def listen(self, deliver: Deliver) -> None:
        """From now on, messages sent to any conference reach ``deliver`` in this process (idempotent)."""

    @abstractmethod
    async def send(self, session_id: int, outgoing: Outgoing) -> None: ...

    def watch(self, gone: Gone, lost: Lost) -> None:
        """``gone``: participants who left with another process that died (record their leave); ``lost``: where
        the rooms live went away (False) or came back (True). Nothing of the kind happens in one process."""

    @abstractmethod
    def reopen(self, session_id: int) -> LiveRoom:
        """The room of a resumed session (a fresh one in this process; in Redis, as it was)."""

    ends_with_process: bool  # a conference ends when the process serving it stops (no other can go on with it)

    @abstractmethod
    def let_go(self) -> dict[int, list[int]]:
        """The process is stopping (its loop has stopped): who is connected nowhere now, by session."""


class LocalRoom(LiveRoom):
    """:class:`~.room.Room` in this process's memory."""

    def __init__(self) -> None:
        self.core = Room()
        self._parts: dict[str, dict] = {}

    async def connect(self, participant: int, name: str) -> str:
        return self.core.connect(participant, name)

    async def disconnect(self, participant: int) -> bool:
        return self.core.disconnect(participant)

    async def welcome(self, you: dict) -> dict:
        return self.core.welcome(you)

    async def publish(self, view: dict, t: float | None) -> Outgoing:
        return self.core.publish(view, t)

    async def open_poll(self, poll: dict) -> Outgoing:
        return self.core.open_poll(poll)

    async def close_poll(self, poll_id: str) -> Outgoing:
        return self.core.close_poll(poll_id)

    async def mark_answered(self, question: int) -> Outgoing:
        return self.core.mark_answered(question)

    async def end(self) -> Outgoing:
        return self.core.end()

    async def check_answer(self, poll_id: str, answer: int | dict) -> None:
        self.core.check_answer(poll_id, answer)

    async def answer(self, participant: int, poll_id: str, answer: int | dict) -> Outgoing:
        return self.core.answer(participant, poll_id, answer)

    async def ask(self, participant: int, text: str) -> Outgoing:
        return self.core.ask(participant, text)

    async def upvote(self, participant: int, question: int) -> Outgoing:
        return self.core.upvote(participant, question)

    async def set_following(self, participant: int, value: bool) -> Outgoing:
        return self.core.set_following(participant, value)

    async def set_rtt(self, participant: int, rtt_ms: float) -> None:
        self.core.set_rtt(participant, rtt_ms)

    async def roster_message(self) -> dict:
        return self.core.roster_message()

    async def ended(self) -> bool:
        return self.core.ended

    async def view(self) -> dict | None:
        return self.core.view

    async def connected(self) -> list[int]:
        return [member.id for member in self.core.members.values() if member.connections]

    async def part(self, name: str) -> dict:
        return copy.deepcopy(self._parts.get(name, {}))

    async def change(self, name: str, change: Change) -> Outgoing:
        if self.core.ended:
            raise Rejected("the conference has ended")
        state, outgoing = change(copy.deepcopy(self._parts.get(name, {})))
        self._parts[name] = state
        return outgoing


class LocalRooms(Rooms):
    """Without ``--redis``: rooms in memory; a message reaches this process's sockets and nothing else."""

    ends_with_process = True

    def __init__(self) -> None:
        self._rooms: dict[int, LocalRoom] = {}
        self._deliver: Deliver | None = None

    def room(self, session_id: int) -> LiveRoom:
        if session_id not in self._rooms:
            self._rooms[session_id] = LocalRoom()
        return self._rooms[session_id]

    def reopen(self, session_id: int) -> LiveRoom:
        self._rooms[session_id] = LocalRoom()
        return self._rooms[session_id]

    def let_go(self) -> dict[int, list[int]]:
        """Each live room ends; everyone connected leaves."""
        left = {}
        for session_id, room in self._rooms.items():
            if not room.core.ended:
                left[session_id] = [m.id for m in room.core.members.values() if m.connections]
                room.core.end()
        return left

    async def listen(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def send(self, session_id: int, outgoing: Outgoing) -> None:
        if self._deliver is not None and outgoing:
            self._deliver(session_id, outgoing)


"""Conference rooms in Redis (``--redis URL``): any process serves any participant or the presenter.

Each session's state is a few Redis keys under ``rr:conf:<id>:`` (see :func:`room_key`); every
change that two processes could race on (the sequence number, a poll's answers, a question's
upvotes, who is connected) is one Lua script, so it is atomic; the rules are
:mod:`.room`'s own functions. Messages fan out on the channel ``rr:bus:<id>``: every process
subscribes and hands them to its own sockets. A socket that opens reads the room's current
state (the welcome: ``seq`` with the last view, the poll, the queue) after its process has
subscribed, so it misses nothing; a client that reconnects to another process catches up
the same way, and drops any ``view`` whose ``seq`` is not newer than its own.

Who is connected is counted per process (``conns:<process id>``); a process says it is
alive every :data:`HEARTBEAT` s with a key that expires after :data:`PROCESS_TTL` s. A
process that dies (kill -9) stops counting once its key expires, and another process takes
over its counts (:meth:`RedisRoom.release`), recording a leave for whoever did not come back
elsewhere. Redis must be private to the serving processes: it holds each room's state.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets

import redis
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from readingroom.errors import InputError, RemoteError
from readingroom.server.conference.directory import RedisDirectory
from readingroom.server.conference.messages import PRESENTER, Rejected
from readingroom.server.conference.room import (
    EVERYONE,
    MAX_OPEN_QUESTIONS,
    MAX_QUESTIONS,
    PARTICIPANTS,
    Member,
    Outgoing,
    Question,
    check_fit,
    queue,
    results_message,
    shown_results,
    welcome_message,
)
from readingroom.server.conference.rooms import (
    Change,
    Deliver,
    Gone,
    LiveRoom,
    Lost,
    Rooms,
    RoomsUnavailable,
)

log = logging.getLogger("readingroom.conference")

HEARTBEAT = 2.0  # seconds between a process's "still alive"
PROCESS_TTL = 6  # seconds: a process silent this long is gone, and its connections count no more
RETRY = 1.0  # seconds between attempts to reach Redis again
CONNECTIONS = 32  # per process; commands are short, so a few carry a thousand sockets' traffic
ROSTER_DUE = {"type": "roster"}  # the presenter's process makes the roster itself, from Redis


def room_key(session_id: int, name: str) -> str:
    return f"rr:conf:{session_id}:{name}"


def bus_channel(session_id: int) -> str:
    return f"rr:bus:{session_id}"


BUS_PATTERN = "rr:bus:*"
PROCESS_PREFIX = "rr:process:"

# Counting a participant's open sockets over the processes still alive (one definition, used by three scripts).
_CONNECTIONS = """
local function connections(procs, participant, conns_prefix, skip)
  local total = 0
  for _, proc in ipairs(redis.call('SMEMBERS', procs)) do
    if proc ~= skip and (proc == ARGV[3] or redis.call('EXISTS', KEYS[3] .. proc) == 1) then
      total = total + tonumber(redis.call('HGET', conns_prefix .. proc, participant) or '0')
    end
  end
  return total
end
"""
# KEYS: members, procs, process key prefix; ARGV: participant, member JSON, this process, conns prefix
CONNECT = _CONNECTIONS + """
local new = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HINCRBY', ARGV[4] .. ARGV[3], ARGV[1], 1)
if new == 1 then return 'join' end
if connections(KEYS[2], ARGV[1], ARGV[4], '') == 1 then return 'reconnect' end
return ''
"""
DISCONNECT = _CONNECTIONS + """
if redis.call('HINCRBY', ARGV[4] .. ARGV[3], ARGV[1], -1) <= 0 then redis.call('HDEL', ARGV[4] .. ARGV[3], ARGV[1]) end
if connections(KEYS[2], ARGV[1], ARGV[4], '') == 0 then return 1 end
return 0
"""
# ARGV[2]: the process let go; ARGV[5] '1': only if still listed (a dead one: one sweeper takes it over)
RELEASE = _CONNECTIONS + """
if redis.call('SREM', KEYS[2], ARGV[2]) == 0 and ARGV[5] == '1' then return {} end
local theirs = redis.call('HKEYS', ARGV[4] .. ARGV[2])
redis.call('DEL', ARGV[4] .. ARGV[2])
local left = {}
for _, participant in ipairs(theirs) do
  if connections(KEYS[2], participant, ARGV[4], ARGV[2]) == 0 then table.insert(left, participant) end
end
return left
"""
# KEYS: seq, view; ARGV: {"view", "t"} JSON
PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1])
return seq
"""
# KEYS: polls, poll, last closed; ARGV: id, poll JSON. nil: the id was used; else the poll it closed, or ''
OPEN_POLL = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return false end
local previous = redis.call('GET', KEYS[2])
if previous then redis.call('SET', KEYS[3], previous) end
redis.call('SET', KEYS[2], ARGV[1])
return previous or ''
"""
# KEYS: poll, last closed; ARGV: id
CLOSE_POLL = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[1])
return 1
"""
# KEYS: poll, its answers; ARGV: id, participant, answer JSON
ANSWER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# KEYS: questions, open per participant; ARGV: participant, question JSON, max open, max in all
ASK = """
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') >= tonumber(ARGV[3]) then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return redis.call('RPUSH', KEYS[1], ARGV[2])
"""
# KEYS: questions, answered, open per participant; ARGV: question id
MARK_ANSWERED = """
local n = tonumber(ARGV[1])
if n < 1 or n > redis.call('LLEN', KEYS[1]) then return -1 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[3], tostring(cjson.decode(redis.call('LINDEX', KEYS[1], n - 1)).by), -1)
end
return 1
"""
# KEYS: questions, votes, vote counts; ARGV: question id, participant
UPVOTE = """
local n = tonumber(ARGV[1])
if n < 1 or n > redis.call('LLEN', KEYS[1]) then return -1 end
if redis.call('SADD', KEYS[2], ARGV[1] .. ':' .. ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
return 1
"""


def _unavailable(method):
    """Redis unreachable becomes :class:`RoomsUnavailable`: the socket closes so its client reconnects."""

    @functools.wraps(method)
    async def wrapped(*args, **kwargs):
        try:
            return await method(*args, **kwargs)
        except RedisError as error:
            raise RoomsUnavailable(f"Redis: {error}") from None

    return wrapped


def _text(value) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RedisRoom(LiveRoom):
    """One session's room in Redis; every method is one or two round trips."""

    def __init__(self, session_id: int, rooms: RedisRooms) -> None:
        self.id, self.rooms, self.r = session_id, rooms, rooms.client
        self.conns_prefix = room_key(session_id, "conns:")

    def key(self, name: str) -> str:
        return room_key(self.id, name)

    def counting_keys(self) -> list[str]:
        """KEYS of the connection-counting scripts: the members, the processes, the alive-key prefix."""
        return [self.key("members"), self.key("procs"), PROCESS_PREFIX]

    @_unavailable
    async def connect(self, participant: int, name: str) -> str:
        kind = await self.rooms.scripts["connect"](keys=self.counting_keys(), args=[
            participant, json.dumps({"name": name}), self.rooms.process, self.conns_prefix])
        return _text(kind)

    @_unavailable
    async def disconnect(self, participant: int) -> bool:
        return bool(await self.rooms.scripts["disconnect"](keys=self.counting_keys(), args=[
            participant, "", self.rooms.process, self.conns_prefix]))

    @_unavailable
    async def release(self, process: str | None = None) -> list[int]:
        """Let go of ``process``'s connections (this one's when stopping; a dead one's: only if still listed)."""
        claim = "1" if process else ""
        left = await self.rooms.scripts["release"](keys=self.counting_keys(), args=[
            "", process or self.rooms.process, "", self.conns_prefix, claim])
        return [int(p) for p in left]

    @_unavailable
    async def welcome(self, you: dict) -> dict:
        pipe = self.r.pipeline(transaction=True)
        for name in ("seq", "view", "poll", "last_closed", "ended"):
            pipe.get(self.key(name))
        self._queue_reads(pipe)
        seq, view, poll_id, last_closed, ended, *queued = await pipe.execute()
        shown_poll = await self._poll(poll_id) if poll_id else None
        shown = shown_results(you, shown_poll, _text(last_closed))
        results = await self._results(shown) if shown else None
        answer = None
        if poll_id and you["id"] is not None:
            mine = await self.r.hget(self.key(f"answers:{_text(poll_id)}"), you["id"])
            answer = json.loads(mine) if mine else None
        snapshot = json.loads(view) if view else {"view": None, "t": None}
        return welcome_message(you, int(seq or 0), snapshot["view"], snapshot["t"], shown_poll, results, answer,
                               self._queue(*queued), bool(ended))

    @_unavailable
    async def publish(self, view: dict, t: float | None) -> Outgoing:
        seq = await self.rooms.scripts["publish"](keys=[self.key("seq"), self.key("view")],
                                                  args=[json.dumps({"view": view, "t": t})])
        return [(PARTICIPANTS, {"type": "view", "seq": int(seq), "view": view, "t": t})]

    @_unavailable
    async def open_poll(self, poll: dict) -> Outgoing:
        closed = await self.rooms.scripts["open_poll"](
            keys=[self.key("polls"), self.key("poll"), self.key("last_closed")], args=[poll["id"], json.dumps(poll)])
        if closed is None:
            raise Rejected("poll id already used in this session")
        out = [(EVERYONE, {"type": "poll", "poll": None}), (EVERYONE, await self._results(_text(closed)))] \
            if closed else []
        return out + [(EVERYONE, {"type": "poll", "poll": poll}), (PRESENTER, await self._results(poll["id"]))]

    @_unavailable
    async def close_poll(self, poll_id: str) -> Outgoing:
        if not await self.rooms.scripts["close_poll"](keys=[self.key("poll"), self.key("last_closed")], args=[poll_id]):
            raise Rejected("no such open poll")
        return [(EVERYONE, {"type": "poll", "poll": None}), (EVERYONE, await self._results(poll_id))]

    @_unavailable
    async def mark_answered(self, question: int) -> Outgoing:
        done = await self.rooms.scripts["mark_answered"](
            keys=[self.key("questions"), self.key("answered"), self.key("open_by")], args=[question])
        if done < 0:
            raise Rejected("no such question")
        return [(EVERYONE, await self._questions_message())]

    @_unavailable
    async def end(self) -> Outgoing:
        pipe = self.r.pipeline(transaction=True)
        pipe.set(self.key("ended"), 1)
        pipe.delete(self.key("poll"))
        await pipe.execute()
        return [(EVERYONE, {"type": "ended"})]

    @_unavailable
    async def check_answer(self, poll_id: str, answer: int | dict) -> None:
        open_id = await self.r.get(self.key("poll"))
        check_fit(await self._poll(open_id) if open_id else None, poll_id, answer)

    @_unavailable
    async def answer(self, participant: int, poll_id: str, answer: int | dict) -> Outgoing:
        await self.check_answer(poll_id, answer)
        counted = await self.rooms.scripts["answer"](keys=[self.key("poll"), self.key(f"answers:{poll_id}")],
                                                     args=[poll_id, participant, json.dumps(answer)])
        if not counted:
            raise Rejected("answer to a poll that is not open")
        return [(PRESENTER, await self._results(poll_id))]

    @_unavailable
    async def ask(self, participant: int, text: str) -> Outgoing:
        member = await self.r.hget(self.key("members"), participant)
        if member is None:
            raise Rejected("not in the room")
        entry = json.dumps({"text": text, "by": participant, "by_name": json.loads(member)["name"]})
        if not await self.rooms.scripts["ask"](keys=[self.key("questions"), self.key("open_by")],
                                               args=[participant, entry, MAX_OPEN_QUESTIONS, MAX_QUESTIONS]):
            raise Rejected("too many questions waiting")
        return [(EVERYONE, await self._questions_message())]

    @_unavailable
    async def upvote(self, participant: int, question: int) -> Outgoing:
        done = await self.rooms.scripts["upvote"](
            keys=[self.key("questions"), self.key("votes"), self.key("vote_counts")], args=[question, participant])
        if done < 0:
            raise Rejected("no such question")
        return [(EVERYONE, await self._questions_message())] if done else []

    @_unavailable
    async def set_following(self, participant: int, value: bool) -> Outgoing:
        await self.r.hset(self.key("following"), participant, int(value))
        return [(PRESENTER, ROSTER_DUE)]

    @_unavailable
    async def set_rtt(self, participant: int, rtt_ms: float) -> None:
        await self.r.hset(self.key("rtt"), participant, round(rtt_ms, 1))

    @_unavailable
    async def roster_message(self) -> dict:
        members = await self._members()
        return {"type": "roster", "roster": [m.entry() for m in members]}

    @_unavailable
    async def ended(self) -> bool:
        return bool(await self.r.exists(self.key("ended")))

    @_unavailable
    async def view(self) -> dict | None:
        snapshot = await self.r.get(self.key("view"))
        return json.loads(snapshot)["view"] if snapshot else None

    @_unavailable
    async def connected(self) -> list[int]:
        members = await self._members()
        return [m.id for m in members if m.connections]

    @_unavailable
    async def part(self, name: str) -> dict:
        stored = await self.r.get(self.key(f"part:{name}"))
        return json.loads(stored) if stored else {}

    @_unavailable
    async def change(self, name: str, change: Change) -> Outgoing:
        key = self.key(f"part:{name}")

        async def apply(pipe) -> Outgoing:
            if await pipe.exists(self.key("ended")):
                raise Rejected("the conference has ended")
            stored = await pipe.get(key)
            state, outgoing = change(json.loads(stored) if stored else {})
            pipe.multi()
            pipe.set(key, json.dumps(state))
            return outgoing

        return await self.r.transaction(apply, key, self.key("ended"), value_from_callable=True)

    # Reads

    async def _poll(self, poll_id) -> dict | None:
        stored = await self.r.hget(self.key("polls"), _text(poll_id))
        return json.loads(stored) if stored else None

    async def _results(self, poll_id: str) -> dict:
        poll = await self._poll(poll_id)
        answers = await self.r.hvals(self.key(f"answers:{poll_id}"))
        return results_message(poll, [json.loads(a) for a in answers])

    def _queue_reads(self, pipe) -> None:
        pipe.lrange(self.key("questions"), 0, -1)
        pipe.smembers(self.key("answered"))
        pipe.hgetall(self.key("vote_counts"))

    def _queue(self, entries, answered, counts) -> list[dict]:
        answered = {int(a) for a in answered}
        counts = {int(k): int(v) for k, v in counts.items()}
        questions = []
        for number, stored in enumerate(entries, start=1):
            entry = json.loads(stored)
            questions.append(Question(number, entry["text"], entry["by"], entry["by_name"],
                                      answered=number in answered, votes=counts.get(number, 0)))
        return queue(questions)

    async def _questions_message(self) -> dict:
        pipe = self.r.pipeline(transaction=True)
        self._queue_reads(pipe)
        return {"type": "questions", "questions": self._queue(*await pipe.execute())}

    async def _members(self) -> list[Member]:
        """The roster: each member's open sockets summed over the processes still alive (and this one)."""
        pipe = self.r.pipeline(transaction=False)
        for name in ("members", "following", "rtt"):
            pipe.hgetall(self.key(name))
        pipe.smembers(self.key("procs"))
        members, following, rtt, processes = await pipe.execute()
        processes = [_text(p) for p in processes]
        pipe = self.r.pipeline(transaction=False)
        for process in processes:
            pipe.exists(PROCESS_PREFIX + process)
            pipe.hgetall(self.conns_prefix + process)
        answers = await pipe.execute() if processes else []
        connections: dict[int, int] = {}
        for process, is_alive, counts in zip(processes, answers[::2], answers[1::2], strict=True):
            if is_alive or process == self.rooms.process:
                for participant, count in counts.items():
                    connections[int(participant)] = connections.get(int(participant), 0) + int(count)
        roster = []
        for participant, stored in members.items():
            number = int(participant)
            rtt_ms = rtt.get(participant)
            roster.append(Member(number, json.loads(stored)["name"], connections.get(number, 0),
                                 following.get(participant, b"1") != b"0",
                                 float(rtt_ms) if rtt_ms is not None else None))
        roster.sort(key=lambda m: m.id)
        return roster


class RedisRooms(Rooms):
    """Every room of the conferences this process serves, in the Redis at ``url``, and their fan-out.

    ``sync`` is a blocking client on the same Redis, for the directory and for stopping.
    """

    ends_with_process = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.sync = redis.Redis.from_url(url, socket_timeout=PROCESS_TTL, socket_connect_timeout=PROCESS_TTL)
        # A burst (hundreds joining at once) waits for one of a few connections rather than failing for want of one.
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=CONNECTIONS, timeout=PROCESS_TTL,
                                                        health_check_interval=HEARTBEAT, socket_timeout=PROCESS_TTL,
                                                        socket_connect_timeout=PROCESS_TTL)
        self.client = aioredis.Redis(connection_pool=pool)
        self.process = secrets.token_hex(8)
        self.scripts = {name: self.client.register_script(text) for name, text in (
            ("connect", CONNECT), ("disconnect", DISCONNECT), ("release", RELEASE), ("publish", PUBLISH),
            ("open_poll", OPEN_POLL), ("close_poll", CLOSE_POLL), ("answer", ANSWER), ("ask", ASK),
            ("mark_answered", MARK_ANSWERED), ("upvote", UPVOTE))}
        self._rooms: dict[int, RedisRoom] = {}
        self._deliver: Deliver | None = None
        self._gone: Gone | None = None
        self._lost: Lost | None = None
        self._tasks: list[asyncio.Task] = []
        self._listening = asyncio.Event()

    def room(self, session_id: int) -> LiveRoom:
        if session_id not in self._rooms:
            self._rooms[session_id] = RedisRoom(session_id, self)
        return self._rooms[session_id]

    def watch(self, gone: Gone, lost: Lost) -> None:
        self._gone, self._lost = gone, lost

    async def listen(self, deliver: Deliver) -> None:
        if self._deliver is None:
            self._deliver = deliver
            self._tasks = [asyncio.create_task(self._read_bus()), asyncio.create_task(self._keep_alive())]
        if not self._listening.is_set():
            await asyncio.wait_for(self._listening.wait(), PROCESS_TTL)  # TimeoutError: Redis is away

    async def send(self, session_id: int, outgoing: Outgoing) -> None:
        if outgoing:
            try:
                await self.client.publish(bus_channel(session_id), json.dumps(outgoing))
            except RedisError as error:
                raise RoomsUnavailable(f"Redis: {error}") from None

    async def _read_bus(self) -> None:
        """Hand every message on the bus to this process's sockets; while Redis is away, try again every second."""
        up = True
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(BUS_PATTERN)
                if not up:  # the sockets closed when Redis went away could not count themselves out then
                    await self._let_go_async()
                await self.client.set(PROCESS_PREFIX + self.process, 1, ex=PROCESS_TTL)
                self._listening.set()
                if not up:
                    up = True
                    log.warning("conference: Redis at %s is reachable again", self.url)
                    self._tell_lost(True)
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        session_id = int(_text(message["channel"]).rsplit(":", 1)[1])
                        outgoing = [(audience, body) for audience, body in json.loads(message["data"])]
                        self._deliver(session_id, outgoing)
            except (RedisError, OSError, RoomsUnavailable) as error:
                self._listening.clear()
                if up:
                    up = False
                    log.error("conference: Redis at %s is unreachable (%s); rooms wait for it, clients reconnect",
                              self.url, error)
                    self._tell_lost(False)
                await asyncio.sleep(RETRY)
            finally:
                try:
                    await pubsub.aclose()
                except (RedisError, OSError):
                    pass

    def _tell_lost(self, back: bool) -> None:
        if self._lost is not None:
            self._lost(back)

    async def _keep_alive(self) -> None:
        """Say this process is alive; take over the connections of processes that are not."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self.client.set(PROCESS_PREFIX + self.process, 1, ex=PROCESS_TTL)
                for room in list(self._rooms.values()):
                    await self._sweep(room)
            except (RedisError, OSError, RoomsUnavailable):
                continue  # _read_bus says so once

    async def _let_go_async(self) -> None:
        for room in list(self._rooms.values()):
            left = await room.release()
            if left and self._gone is not None:
                self._gone(room.id, left)

    async def _sweep(self, room: RedisRoom) -> None:
        processes = [_text(p) for p in await self.client.smembers(room.key("procs"))]
        for process in processes:
            if process != self.process and not await self.client.exists(PROCESS_PREFIX + process):
                left = await room.release(process)
                if left and self._gone is not None:
                    log.warning("conference %s: %d participant(s) left with a process that stopped answering",
                                room.id, len(left))
                    self._gone(room.id, left)

    def reopen(self, session_id: int) -> LiveRoom:
        return self.room(session_id)  # as it was; the directory says it is live again

    def let_go(self) -> dict[int, list[int]]:
        """Each room lets go of this process's connections (the loop has stopped: the blocking client)."""
        left = {}
        release = self.sync.register_script(RELEASE)
        for room in self._rooms.values():
            try:
                gone = release(keys=room.counting_keys(), args=["", self.process, self.process, room.conns_prefix, ""])
            except RedisError as error:
                log.error("conference %s: Redis is unreachable (%s); this process's participants will be counted "
                          "as gone by the next process to notice", room.id, error)
                continue
            left[room.id] = [int(p) for p in gone]
        try:
            self.sync.delete(PROCESS_PREFIX + self.process)
        except RedisError:
            pass
        return left


def redis_rooms(url: str) -> tuple[RedisRooms, RedisDirectory]:
    """The rooms and the directory in the Redis at ``url``; :class:`RemoteError` in one line if it does not answer."""
    from urllib.parse import urlsplit

    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise InputError(f"--redis {url}: give a Redis URL, e.g. redis://127.0.0.1:6379/0")
    rooms = RedisRooms(url)
    try:
        rooms.sync.ping()
    except RedisError as error:
        where = urlsplit(url)._replace(netloc=urlsplit(url).hostname or "").geturl() if urlsplit(url).password else url
        raise RemoteError(f"--redis {where}: Redis does not answer ({error}); start it (systemctl start "
                          "redis-server) or fix the URL") from None
    return rooms, RedisDirectory(rooms.sync)

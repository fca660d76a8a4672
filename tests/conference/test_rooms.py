"""The room interface keeps the same rules in this process and in Redis; in Redis, across processes.

Each test runs against both kinds (a real redis-server for the second). Two ``RedisRooms`` on
one Redis stand for two serving processes: each has its own process id and connection counts.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest

from readingroom.server.conference.messages import Rejected
from readingroom.server.conference.room import EVERYONE, PARTICIPANTS, PRESENTER
from readingroom.server.conference.rooms import LocalRooms
from tests.conftest import run_async
from tests.redis_fixtures import redis_server  # noqa: F401  (a fixture)

CHOICE = {"id": "p1", "kind": "choice", "prompt": "Where is the bleed?", "options": ["left", "right", "none"]}
_sessions = itertools.count(1_000_000)  # session ids of their own on the shared Redis


@pytest.fixture(params=["local", "redis"])
def make_rooms(request):
    """A factory of room sets: one per simulated process (the local kind has only one, shared)."""
    if request.param == "local":
        local = LocalRooms()
        yield lambda: local
        return
    from readingroom.server.conference.rooms_redis import RedisRooms

    url = request.getfixturevalue("redis_server").url
    made: list[RedisRooms] = []

    def make() -> RedisRooms:
        made.append(RedisRooms(url))
        return made[-1]

    make.made = made
    yield make
    for rooms in made:
        rooms.sync.close()


def run(coroutine, make):
    """Run a scenario, then close the asyncio clients ``make`` made, in the scenario's loop (they belong to it)."""
    return run_closing(coroutine, getattr(make, "made", []))


def run_closing(coroutine, made: list):
    async def scenario():
        try:
            return await coroutine
        finally:
            for rooms in made:
                await rooms.client.aclose()

    return run_async(scenario())


def test_views_get_increasing_seq_and_a_joiner_gets_the_last_one(make_rooms):
    session = next(_sessions)
    room = make_rooms().room(session)

    async def scenario():
        await room.connect(1, "Ann")
        for frame in range(3):
            out = await room.publish({"case": "c", "series": 0, "frame": frame}, frame)
        welcome = await room.welcome({"id": 1, "name": "Ann", "role": "participant"})
        return out, welcome

    out, welcome = run(scenario(), make_rooms)
    assert out == [(PARTICIPANTS, {"type": "view", "seq": 3, "view": {"case": "c", "series": 0, "frame": 2}, "t": 2})]
    assert (welcome["seq"], welcome["view"]["frame"], welcome["questions"]) == (3, 2, [])


def test_polls_count_the_last_answer_refuse_a_reused_id_and_a_closed_poll(make_rooms):
    session = next(_sessions)
    room = make_rooms().room(session)

    async def scenario():
        for participant, name in ((1, "Ann"), (2, "Bo")):
            await room.connect(participant, name)
        await room.open_poll(CHOICE)
        await room.answer(1, "p1", 0)
        await room.answer(2, "p1", 0)
        live = await room.answer(2, "p1", 1)
        with pytest.raises(Rejected):
            await room.check_answer("p1", 7)  # not an option
        mine = await room.welcome({"id": 2, "name": "Bo", "role": "participant"})
        closed = await room.close_poll("p1")
        with pytest.raises(Rejected):
            await room.answer(1, "p1", 2)
        with pytest.raises(Rejected):
            await room.open_poll(CHOICE)
        late = await room.welcome({"id": 3, "name": "Cy", "role": "participant"})
        return live, mine, closed, late

    live, mine, closed, late = run(scenario(), make_rooms)
    assert live == [(PRESENTER, {"type": "results", "poll": "p1", "prompt": CHOICE["prompt"],
                                 "options": CHOICE["options"], "counts": [1, 1, 0]})]
    assert mine["answer"] == 1 and mine["results"] is None  # participants see results once the poll closes
    assert closed[0] == (EVERYONE, {"type": "poll", "poll": None}) and closed[1][1]["counts"] == [1, 1, 0]
    assert late["poll"] is None and late["results"]["counts"] == [1, 1, 0]


def test_questions_keep_one_vote_each_and_go_last_when_answered(make_rooms):
    session = next(_sessions)
    room = make_rooms().room(session)

    async def scenario():
        for participant, name in ((1, "Ann"), (2, "Bo")):
            await room.connect(participant, name)
        await room.ask(1, "first?")
        await room.ask(2, "second?")
        await room.upvote(1, 2)
        again = await room.upvote(1, 2)
        await room.mark_answered(2)
        with pytest.raises(Rejected):
            await room.upvote(1, 9)
        return again, (await room.welcome({"id": 1, "name": "Ann", "role": "participant"}))["questions"]

    again, queue = run(scenario(), make_rooms)
    assert again == []
    assert [(q["id"], q["by"], q["votes"], q["answered"]) for q in queue] == [(1, "Ann", 0, False), (2, "Bo", 1, True)]


def test_a_change_to_a_named_part_is_atomic_and_read_back(make_rooms):
    session = next(_sessions)
    first, second = make_rooms().room(session), make_rooms().room(session)

    def raise_hand(state: dict) -> tuple[dict, list]:
        hands = state.get("hands", 0) + 1
        return {"hands": hands}, [(PRESENTER, {"type": "hands", "count": hands})]

    async def scenario():
        await asyncio.gather(*(room.change("hands", raise_hand) for room in (first, second) * 10))
        return await second.part("hands")

    assert run(scenario(), make_rooms) == {"hands": 20}


def test_attendance_counts_sockets_across_processes_and_a_dead_processes_ones_are_taken_over(redis_server):  # noqa: F811
    from readingroom.server.conference.rooms_redis import RedisRooms

    session = next(_sessions)
    a, b = RedisRooms(redis_server.url), RedisRooms(redis_server.url)
    on_a, on_b = a.room(session), b.room(session)

    async def scenario():
        for rooms in (a, b):
            await rooms.client.set("rr:process:" + rooms.process, 1, ex=60)  # both alive
        kinds = [await on_a.connect(1, "Ann"), await on_b.connect(1, "Ann")]  # two tabs, two processes
        left_one = await on_a.disconnect(1)
        await b.client.delete("rr:process:" + b.process)  # b dies (its key expired)
        gone = await on_a.release(b.process)  # the sweep of a surviving process
        again = await on_a.release(b.process)  # another sweeper finds nothing left to take
        return kinds, left_one, gone, again, await on_a.connected()

    kinds, left_one, gone, again, connected = run_closing(scenario(), [a, b])
    assert kinds == ["join", ""] and left_one is False  # Ann is still there through b
    assert gone == [1] and again == [] and connected == []


def test_a_burst_of_joins_on_one_process_waits_for_redis_connections_instead_of_failing(redis_server):  # noqa: F811
    from readingroom.server.conference.rooms_redis import RedisRooms

    rooms = RedisRooms(redis_server.url)
    room = rooms.room(next(_sessions))

    async def join(participant: int) -> str:
        kind = await room.connect(participant, f"P{participant}")
        await room.welcome({"id": participant, "name": f"P{participant}", "role": "participant"})
        return kind

    async def scenario():
        kinds = await asyncio.gather(*(join(p) for p in range(1000)))  # a room joining from one slide at once
        return kinds, await room.connected()

    kinds, connected = run_closing(scenario(), [rooms])
    assert kinds == ["join"] * 1000 and len(connected) == 1000

"""One conference served by several processes sharing one Redis and one PostgreSQL (``--redis``).

Process A is `conference start` (the presenter's link); B and C are `readingroom serve` on the
same cases and store, as nginx would spread participants over them. Every client here is a
real websocket to a real process.
"""

from __future__ import annotations

import os
import signal
import uuid

import pytest

from readingroom.server.conference.join import WRONG_CODES_ALLOWED
from tests.conference.conftest import (
    Client,
    attendance_kinds,
    serve_beside,
    start_conference,
    wait_for,
)
from tests.redis_fixtures import redis_server  # noqa: F401  (a fixture)

VIEW = {"case": None, "series": 0, "frame": 3}


@pytest.fixture(scope="module")
def three(tmp_path_factory, postgres_server, redis_server):  # noqa: F811
    """Processes A (the conference's start), B and C (serve) on one Redis and one PostgreSQL database."""
    import psycopg

    name = f"redis_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.replace("+psycopg", "") + "/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    redis = (f"--redis={redis_server.url}",)
    root = tmp_path_factory.mktemp("redis-three")
    a = start_conference(root / "a", f"{postgres_server}/{name}", extra=redis)
    b = serve_beside(a, root / "b", redis)
    c = serve_beside(a, root / "c", redis)
    yield a, b, c
    for live in (a, b, c):
        live.server.stop()


def _view(presenter: Client, frame: int) -> dict:
    """A snapshot of the agenda's first case at ``frame``."""
    return {**VIEW, "case": presenter.welcome["agenda"][0]["case"], "frame": frame}


def _until(client: Client, kind: str, check) -> dict:
    """The first message of ``kind`` that passes ``check`` (earlier ones of the room's traffic skipped)."""
    while True:
        message = client.next(kind)
        if check(message):
            return message


def test_a_join_code_from_a_works_on_b_and_participants_on_b_and_c_follow_the_presenter_on_a(three):
    a, b, c = three
    presenter = a.presenter()
    assert b.join("Wrong Code", code="ZZZZZZ")[0] == 404
    on_b, on_c = b.participant("Bea on B"), c.participant("Cal on C")
    view = _view(presenter, 7)
    presenter.send({"type": "view", "view": view, "t": 1.0})
    seen_b = _until(on_b, "view", lambda m: m["view"] == view)
    seen_c = _until(on_c, "view", lambda m: m["view"] == view)
    assert seen_b["seq"] == seen_c["seq"] > 0
    roster = _until(presenter, "roster", lambda m: {"Bea on B", "Cal on C"} <= {e["name"] for e in m["roster"]
                                                                                  if e["connected"]})
    assert len([e for e in roster["roster"] if e["name"] == "Bea on B"]) == 1
    for client in (presenter, on_b, on_c):
        client.close()


def test_polls_questions_and_votes_across_processes(three):
    a, b, c = three
    presenter, on_b, on_c = a.presenter(), b.participant("Pia on B"), c.participant("Quin on C")
    poll = f"p{uuid.uuid4().hex[:6]}"
    presenter.send({"type": "poll_open", "poll": {"id": poll, "kind": "choice", "prompt": "Which side?",
                                                  "options": ["left", "right"]}})
    assert _until(on_b, "poll", lambda m: m["poll"] is not None)["poll"]["id"] == poll
    assert _until(on_c, "poll", lambda m: m["poll"] is not None)["poll"]["id"] == poll
    assert on_b.answer(poll, 1, uuid.uuid4().hex)["type"] == "saved"
    assert on_c.answer(poll, 1, uuid.uuid4().hex)["type"] == "saved"
    assert on_c.answer(poll, 0, uuid.uuid4().hex)["type"] == "saved"  # the last answer counts
    _until(presenter, "results", lambda m: m["poll"] == poll and m["counts"] == [1, 1])  # live, on A
    presenter.send({"type": "poll_close", "poll": poll})
    final = _until(on_b, "results", lambda m: m["poll"] == poll)
    assert final["counts"] == [1, 1]

    on_c.send({"type": "ask", "text": "Is there midline shift?"})
    asked = _until(on_b, "questions", lambda m: any(q["text"] == "Is there midline shift?" for q in m["questions"]))
    question = next(q for q in asked["questions"] if q["text"] == "Is there midline shift?")
    assert question["by"] == "Quin on C"
    on_b.send({"type": "upvote", "question": question["id"]})
    on_b.send({"type": "upvote", "question": question["id"]})  # a second vote from the same person counts nothing
    voted = _until(presenter, "questions", lambda m: any(q["id"] == question["id"] and q["votes"] for q in m["questions"]))
    assert next(q for q in voted["questions"] if q["id"] == question["id"])["votes"] == 1
    presenter.send({"type": "answered", "question": question["id"]})
    done = _until(on_c, "questions", lambda m: any(q["id"] == question["id"] and q["answered"] for q in m["questions"]))
    assert done["questions"][-1]["id"] == question["id"]  # answered ones go last
    for client in (presenter, on_b, on_c):
        client.close()


def test_a_reveal_on_a_opens_the_stage_for_a_participant_on_c(three):
    a, _, c = three
    presenter, on_c = a.presenter(), c.participant("Rev on C")
    ticket = on_c.joined["ticket"]
    from tests.conference.conftest import request

    stage_path = f"/readingroom/conference/{a.session}/stages/1?ticket={ticket}"
    presenter.send({"type": "view", "view": {**_view(presenter, 2), "stage": 0}, "t": None})
    _until(on_c, "view", lambda m: m["view"].get("stage") == 0)
    assert request(c.server.port, "GET", stage_path)[0] == 403
    presenter.send({"type": "view", "view": {**_view(presenter, 2), "stage": 1}, "t": None})
    _until(on_c, "view", lambda m: m["view"].get("stage") == 1)
    status, stage = request(c.server.port, "GET", stage_path)
    assert status == 200 and stage["number"] == 1
    presenter.close()
    on_c.close()


def test_a_second_tab_on_another_process_adds_no_attendance(three):
    a, b, c = three
    first = b.participant("Tab Twice")
    second = Client(c, first.path.replace(str(b.server.port), str(c.server.port)), first.joined)
    assert second.welcome["type"] == "welcome"
    second.close()
    first.close()
    participant = first.joined["participant"]
    wait_for(lambda: attendance_kinds(a.records_url, a.session, participant) == ["join", "leave"],
             "one join and one leave for two tabs on two processes")


def test_in_chromium_a_participant_on_b_follows_the_presenter_on_a_within_2_s(three, browser):
    from playwright.sync_api import expect

    from tests.conference.browser_fixtures import VIEWER, join

    a, b, _ = three
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}),
                browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)]  # a phone
    try:
        presenter, follower = (context.new_page() for context in contexts)
        presenter.goto(f"{a.base}/readingroom/conference/{a.session}/present?token={a.token}")
        expect(presenter.locator(VIEWER)).to_have_attribute("data-tier", "lossless", timeout=30_000)
        join(follower, b.server.url, a.code, "Dr Far Away")  # through B, with A's code
        presets = presenter.locator(VIEWER).get_by_label("Window preset")
        for option in (presets.locator("option").count() - 1, 0):
            presets.select_option(index=option)
            width = presenter.locator(VIEWER).get_attribute("data-window-width")
            expect(follower.locator(VIEWER)).to_have_attribute("data-window-width", width, timeout=2_000)
    finally:
        for context in contexts:
            context.close()


def test_wrong_codes_are_counted_across_processes_and_the_right_code_still_gets_in(three):
    lives, typist = three, "127.0.0.9"
    wrong = three[0].code[:5] + ("Z" if three[0].code[5] != "Z" else "Y")
    statuses = [lives[n % 3].join("Typist", code=wrong, source=typist)[0] for n in range(WRONG_CODES_ALLOWED + 1)]
    assert statuses[:-1] == [404] * WRONG_CODES_ALLOWED and statuses[-1] == 429  # no process saw all 100 itself
    assert lives[1].join("Typist", source=typist)[0] == 200


def test_kill_9_b_its_participants_reconnect_to_c_and_catch_up_then_a_resumed_presenter_goes_on(
        three, redis_server):  # noqa: F811
    a, b, c = three
    presenter, on_b, never_back = a.presenter(), b.participant("Kim on B"), b.participant("Nev on B")
    participant = on_b.joined["participant"]
    poll = f"k{uuid.uuid4().hex[:6]}"
    presenter.send({"type": "poll_open", "poll": {"id": poll, "kind": "choice", "prompt": "Shift?",
                                                  "options": ["yes", "no"]}})
    _until(on_b, "poll", lambda m: m["poll"] is not None)
    assert on_b.answer(poll, 0, uuid.uuid4().hex)["type"] == "saved"  # acknowledged by B
    os.kill(b.server.proc.pid, signal.SIGKILL)
    b.server.proc.wait()
    view = _view(presenter, 11)
    presenter.send({"type": "view", "view": view, "t": None})  # while B's participant is away
    back = Client(c, on_b.path, on_b.joined)  # nginx sends the reconnect to C: the same ticket
    assert back.welcome["view"] == view and back.welcome["answer"] == 0  # caught up, their answer still counted

    os.kill(a.server.proc.pid, signal.SIGKILL)  # the presenter's process dies too; resume it
    a.server.proc.wait()
    resumed = start_conference(a.workdir, a.records_url, extra=(f"--redis={redis_server.url}",),
                               command=("resume", str(a.session), f"--cases={a.workdir / 'cases'}"))
    assert (resumed.session, resumed.token, resumed.code) == (a.session, a.token, a.code)
    console = resumed.presenter()
    assert console.welcome["view"] == view  # the room went on in Redis
    assert console.welcome["results"]["counts"] == [1, 0]
    later = {**view, "frame": 12}
    console.send({"type": "view", "view": later, "t": None})
    seen = _until(back, "view", lambda m: m["view"] == later)
    assert seen["seq"] > console.welcome["seq"]

    # What B acknowledged waits in B's journal: B back on its own folder puts it in the store.
    b_again = serve_beside(a, b.workdir, (f"--redis={redis_server.url}",))
    wait_for(lambda: attendance_kinds(a.records_url, a.session, participant)[:1] == ["join"], "Kim's join stored")
    wait_for(lambda: _answers(a.records_url, a.session, participant) == [0], "Kim's answer stored once")
    # Whoever did not come back left when B stopped answering (a surviving process noticed and recorded it).
    gone = never_back.joined["participant"]
    wait_for(lambda: attendance_kinds(a.records_url, a.session, gone) == ["join", "leave"], "Nev's leave", 30)

    # A process stopped on purpose does not end the conference: the others go on with it.
    b_again.server.stop()
    last = {**view, "frame": 13}
    console.send({"type": "view", "view": last, "t": None})
    assert _until(back, "view", lambda m: m["view"] == last)["seq"] > seen["seq"]
    for client in (console, back, presenter):
        client.close()
    resumed.server.stop()


def _answers(url: str, session: int, participant: int) -> list:
    from sqlalchemy import create_engine, select

    from readingroom.records.models import PollAnswerRow

    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return [row.answer for row in db.execute(select(PollAnswerRow).where(
                PollAnswerRow.session_id == session, PollAnswerRow.participant_id == participant))]
    finally:
        engine.dispose()

"""The session's timeline, written by a real `conference start` as the presenter drives it: views, reveals, polls
and their results, answered questions, start and end; never a participant's name or answer; readable after kill -9."""

from __future__ import annotations

import itertools
import json
import signal

import pytest

from readingroom.errors import InputError
from readingroom.server.conference import replay
from readingroom.server.conference.recordings import (
    NOT_RECORDED,
    TIMELINE,
    session_folder,
)
from readingroom.server.conference.room import PARTICIPANTS
from readingroom.server.conference.timeline import VIEW_SPACING, Timeline, read_timeline
from tests.conference.conftest import request, start_conference, wait_for

ASKER = "Dr Quentin Asker"
QUESTION = "Is the falx displaced too?"


def recorded_conference(tmp_path, *extra: str):
    recordings = tmp_path / "recordings"
    live = start_conference(tmp_path, f"sqlite:///{tmp_path / 'records.sqlite'}", extra=(f"--recordings={recordings}", *extra))
    return live, session_folder(recordings, live.session)


def kinds(path) -> list[str]:
    return [event["kind"] for event in read_timeline(path)] if path.exists() else []


def view(case: str, frame: int = 0, stage: int = 0) -> dict:
    return {"type": "view", "view": {"case": case, "series": 0, "frame": frame, "stage": stage}, "t": None}


def test_a_conference_writes_what_everyone_saw_and_nothing_of_who(tmp_path):
    live, folder = recorded_conference(tmp_path)
    try:
        presenter = live.presenter()
        case = presenter.welcome["agenda"][0]["case"]
        assert "This session is recorded" in follower_page(live)
        participant = live.participant(ASKER)
        presenter.send(view(case))
        presenter.send(view(case, stage=1))  # a reveal
        presenter.send({"type": "poll_open", "poll": {"id": "p1", "kind": "choice", "prompt": "Which side?",
                                                      "options": ["Left", "Right"]}})
        participant.next("poll")
        assert participant.answer("p1", 1, "answerkey01")["type"] == "saved"
        presenter.send({"type": "poll_close", "poll": "p1"})
        participant.send({"type": "ask", "text": QUESTION})
        question = presenter.next("questions")["questions"][0]["id"]
        presenter.send({"type": "answered", "question": question})
        signed_in = {"Cookie": live.signed_in_cookie(participant.joined["participant"])}
        status, body = request(live.server.port, "GET", f"/readingroom/conference/{live.session}/replay", headers=signed_in)
        assert status == 409 and "still live" in body  # a replay opens once the session has ended
        presenter.send({"type": "end"})
        wait_for(lambda: "end" in kinds(folder / TIMELINE), "the timeline's end")
    finally:
        live.server.stop()

    events = read_timeline(folder / TIMELINE)
    assert [e["kind"] for e in events] == ["start", "case", "view", "reveal", "view", "poll_open", "poll_closed",
                                           "answered", "end"]
    assert events[0]["session"] == live.session
    assert [e["t"] for e in events] == sorted(e["t"] for e in events)
    assert events[3] == {**events[3], "case": case, "stage": 1}
    assert events[6]["results"] == {"poll": "p1", "prompt": "Which side?", "options": ["Left", "Right"], "counts": [0, 1]}
    assert events[7]["question"] == QUESTION
    text = (folder / TIMELINE).read_text()
    assert ASKER not in text and "answerkey01" not in text  # never who asked, nor anyone's answer
    assert not (folder / NOT_RECORDED).exists()


def test_kill_9_mid_session_leaves_a_readable_timeline(tmp_path):
    live, folder = recorded_conference(tmp_path)
    try:
        presenter = live.presenter()
        case = presenter.welcome["agenda"][0]["case"]
        for frame in range(3):
            presenter.send(view(case, frame=frame))
        presenter.send({"type": "poll_open", "poll": {"id": "p1", "kind": "locate", "prompt": "Where is it?"}})
        wait_for(lambda: "poll_open" in kinds(folder / TIMELINE), "the poll in the timeline")  # written within a second
        live.server.proc.send_signal(signal.SIGKILL)
        live.server.proc.wait(20)
    finally:
        live.server.stop()

    events = read_timeline(folder / TIMELINE)
    assert events[0]["kind"] == "start" and events[-1]["kind"] == "poll_open"  # no end: the server never said goodbye
    assert events[-2] == {**events[-2], "kind": "view", "view": {"case": case, "series": 0, "frame": 2, "stage": 0}}
    # A line torn by a crash in the middle of a write is skipped; the rest reads as before.
    with (folder / TIMELINE).open("a") as timeline:
        timeline.write(json.dumps({"t": 1.0, "kind": "view", "view": {}})[:17])
    assert read_timeline(folder / TIMELINE) == events


def follower_page(live) -> str:
    status, joined = live.join("Dr Page Reader")
    assert status == 200, joined
    status, page = request(live.server.port, "GET", f"/readingroom/conference/{live.session}/follow?ticket={joined['ticket']}")
    assert status == 200, page
    return page


def test_no_record_keeps_no_timeline_and_participants_are_not_told_it_is_recorded(tmp_path):
    live, folder = recorded_conference(tmp_path, "--no-record")
    try:
        assert "This session is recorded" not in follower_page(live)
        presenter = live.presenter()
        presenter.send(view(presenter.welcome["agenda"][0]["case"]))
        wait_for(lambda: (folder / NOT_RECORDED).exists(), "the not-recorded marker")
        status, joined = live.join("Dr Late Viewer")
        presenter.send({"type": "end"})
        replay_page = f"/readingroom/conference/{live.session}/replay"
        signed_in = {"Cookie": live.signed_in_cookie(joined["participant"])}
        status, body = wait_for(lambda: (answer := request(live.server.port, "GET", replay_page, headers=signed_in))[0]
                                != 409 and answer, "the session's end")
        assert status == 404 and "was not recorded" in body
    finally:
        live.server.stop()
    assert not (folder / TIMELINE).exists()


# ---- the writer alone (no server): thinning, a refusing disk, what a replay refuses to load ----

def views(timeline: Timeline, frames: range, start: float, step: float) -> None:
    for frame in frames:
        message = {"type": "view", "seq": frame, "view": {"case": "c0ffee0001", "series": 0, "frame": frame}, "t": None}
        timeline.observe([(PARTICIPANTS, message)], start + frame * step)


def test_a_scroll_is_thinned_to_about_ten_views_a_second_and_its_last_view_is_kept(tmp_path):
    timeline = Timeline(tmp_path / TIMELINE, 100.0, 7)
    views(timeline, range(120), 100.0, 1 / 60)  # two seconds of scrolling at 60 views a second
    timeline.close()
    kept = [e for e in read_timeline(tmp_path / TIMELINE) if e["kind"] == "view"]
    assert 18 <= len(kept) <= 22
    assert kept[-1]["view"]["frame"] == 119
    assert all(b["t"] - a["t"] >= VIEW_SPACING - 1e-9 for a, b in itertools.pairwise(kept))


def test_a_disk_that_refuses_the_timeline_delays_it_and_loses_nothing(tmp_path, caplog):
    blocked = tmp_path / "recordings"
    blocked.write_text("a file where the folder should be")  # as a full or read-only disk, the write fails
    timeline = Timeline(blocked / "session-7" / TIMELINE, 100.0, 7)
    views(timeline, range(3), 100.0, 1.0)
    timeline.flush()
    assert "cannot write the timeline" in caplog.text
    blocked.unlink()  # the disk takes writes again
    views(timeline, range(3, 5), 100.0, 1.0)
    timeline.close()
    events = read_timeline(blocked / "session-7" / TIMELINE)
    assert events[0] == {"t": 100.0, "kind": "start", "session": 7}
    assert [e["view"]["frame"] for e in events if e["kind"] == "view"] == [0, 1, 2, 3, 4]


def test_a_session_started_with_no_record_cannot_be_replayed_or_exported(tmp_path):
    folder = session_folder(tmp_path, 7)
    folder.mkdir()
    (folder / NOT_RECORDED).touch()
    with pytest.raises(InputError, match=r"^session 7 was not recorded \(it was started with --no-record\)$"):
        replay.load(tmp_path, 7)

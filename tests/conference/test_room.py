"""The room's rules, without a server: views and seq, polls and results, the Q&A queue, the roster."""

from __future__ import annotations

import pytest

from readingroom.server.conference.messages import Rejected
from readingroom.server.conference.room import EVERYONE, PARTICIPANTS, PRESENTER, Room

CHOICE = {"id": "p1", "kind": "choice", "prompt": "Where is the bleed?", "options": ["left", "right", "none"]}
LOCATE = {"id": "p2", "kind": "locate", "prompt": "Point at the lesion"}


@pytest.fixture
def room() -> Room:
    room = Room()
    for pid, name in ((1, "Ann"), (2, "Bo"), (3, "Cy")):
        room.connect(pid, name)
    return room


def test_each_view_gets_the_next_seq_and_goes_to_participants(room):
    first = room.publish({"case": "c", "series": 0, "frame": 1}, 100)
    second = room.publish({"case": "c", "series": 0, "frame": 2}, 200)
    view = {"case": "c", "series": 0, "frame": 1}
    assert first == [(PARTICIPANTS, {"type": "view", "seq": 1, "view": view, "t": 100})]
    assert second[0][1]["seq"] == 2


def test_a_joiner_gets_the_last_snapshot_not_a_replay(room):
    for frame in range(5):
        room.publish({"case": "c", "series": 0, "frame": frame}, frame)
    welcome = room.welcome({"id": 4, "name": "Di", "role": "participant"})
    assert (welcome["seq"], welcome["view"]["frame"], welcome["t"]) == (5, 4, 4)


def test_choice_poll_counts_one_answer_per_participant_the_last_counting(room):
    room.open_poll(CHOICE)
    room.answer(1, "p1", 0)
    room.answer(2, "p1", 0)
    live = room.answer(1, "p1", 2)  # Ann changes her mind
    labelled = {"type": "results", "poll": "p1", "prompt": CHOICE["prompt"], "options": CHOICE["options"]}
    assert live == [(PRESENTER, {**labelled, "counts": [1, 0, 1]})]
    closed = room.close_poll("p1")
    assert closed == [(EVERYONE, {"type": "poll", "poll": None}), (EVERYONE, {**labelled, "counts": [1, 0, 1]})]


def test_locate_poll_results_are_the_points(room):
    room.open_poll(LOCATE)
    room.answer(3, "p2", {"x": 10.0, "y": 20.0, "frame": 4})
    assert room.results("p2")["points"] == [{"x": 10.0, "y": 20.0, "frame": 4}]


@pytest.mark.parametrize("poll, answer, rule", [
    (CHOICE, 3, "not one of the poll's options"),
    (CHOICE, {"x": 1, "y": 2, "frame": 0}, "not one of the poll's options"),
    (LOCATE, 1, "answered with"),
])
def test_answers_that_do_not_fit_the_poll_are_refused(room, poll, answer, rule):
    room.open_poll(poll)
    with pytest.raises(Rejected, match=rule):
        room.answer(1, poll["id"], answer)


def test_answers_to_a_closed_poll_are_refused_and_a_poll_id_is_used_once(room):
    room.open_poll(CHOICE)
    room.close_poll("p1")
    with pytest.raises(Rejected, match="not open"):
        room.answer(1, "p1", 0)
    with pytest.raises(Rejected, match="already used"):
        room.open_poll(CHOICE)


def test_opening_a_poll_closes_the_one_still_open(room):
    room.open_poll(CHOICE)
    out = room.open_poll(LOCATE)
    assert [m["type"] for _, m in out] == ["poll", "results", "poll", "results"]
    assert room.poll == LOCATE


def test_a_reconnecting_participant_sees_their_answer_and_the_open_poll(room):
    room.open_poll(CHOICE)
    room.answer(2, "p1", 1)
    welcome = room.welcome({"id": 2, "name": "Bo", "role": "participant"})
    assert (welcome["poll"], welcome["answer"], welcome["results"]) == (CHOICE, 1, None)
    assert room.welcome({"id": None, "name": "Presenter", "role": "presenter"})["results"]["counts"] == [0, 1, 0]


def test_whoever_joins_after_a_poll_closed_gets_its_labelled_results(room):
    room.open_poll(CHOICE)
    room.answer(1, "p1", 2)
    room.close_poll("p1")
    results = room.welcome({"id": 9, "name": "Late", "role": "participant"})["results"]
    assert (results["prompt"], results["options"], results["counts"]) == (CHOICE["prompt"], CHOICE["options"], [0, 0, 1])


def test_one_upvote_per_participant_and_the_queue_orders_by_votes(room):
    room.ask(1, "Is this acute?")
    room.ask(2, "Which window?")
    room.upvote(3, 2)
    assert room.upvote(3, 2) == []  # a second vote changes nothing and sends nothing
    room.upvote(1, 2)
    assert [(q["text"], q["votes"]) for q in room.questions()] == [("Which window?", 2), ("Is this acute?", 0)]
    room.mark_answered(2)
    assert [(q["id"], q["answered"]) for q in room.questions()] == [(1, False), (2, True)]
    assert room.questions()[1]["by"] == "Bo"


def test_unknown_questions_are_refused(room):
    with pytest.raises(Rejected, match="no such question"):
        room.upvote(1, 7)


def test_roster_tracks_connections_following_and_link_quality(room):
    assert room.connect(1, "Ann") == ""  # a second tab: no attendance event
    assert room.disconnect(1) is False
    assert room.disconnect(1) is True  # the last socket closed: Ann left
    assert room.connect(1, "Ann") == "reconnect"
    assert room.connect(9, "Ed") == "join"
    room.set_following(2, False)
    room.set_rtt(3, 87.25)
    roster = {m["id"]: m for m in room.roster()}
    assert roster[2]["following"] is False and roster[3]["rtt_ms"] == 87.2 and roster[1]["connected"] is True
    room.disconnect(9)
    assert {m["id"]: m["connected"] for m in room.roster()}[9] is False

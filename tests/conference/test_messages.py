"""Validation by role: each malformed, oversized or not-allowed message is rejected with a reason, not its content."""

from __future__ import annotations

import json

import pytest

from readingroom.server.conference.messages import MAX_MESSAGE_BYTES, PARTICIPANT, PRESENTER, Allowance, Rejected, parse

VIEW = {"case": "2275f4ab54", "series": 0, "frame": 41, "window": [40, 80], "zoom": 1.5, "pan": [12.0, -4.0],
        "invert": False, "annotations": [], "hidden_groups": ["finding"], "stage": 1, "plane": "coronal",
        "plane_index": 200}


def test_the_protocols_example_view_passes_unchanged():
    assert parse(json.dumps({"type": "view", "view": VIEW, "t": 1700000000000}), PRESENTER) == {
        "type": "view", "view": VIEW, "t": 1700000000000}


@pytest.mark.parametrize("message, role", [
    ({"type": "answer", "poll": "p1", "answer": 2}, PARTICIPANT),
    ({"type": "answer", "poll": "p1", "answer": {"x": 1.5, "y": 2, "frame": 3}}, PARTICIPANT),
    ({"type": "ask", "text": "Why?"}, PARTICIPANT),
    ({"type": "upvote", "question": 1}, PARTICIPANT),
    ({"type": "following", "value": False}, PARTICIPANT),
    ({"type": "ping", "t": 5}, PARTICIPANT),
    ({"type": "poll_open", "poll": {"id": "a", "kind": "locate", "prompt": "Where?"}}, PRESENTER),
    ({"type": "poll_close", "poll": "a"}, PRESENTER),
    ({"type": "answered", "question": 3}, PRESENTER),
    ({"type": "end"}, PRESENTER),
])
def test_well_formed_messages_pass(message, role):
    assert parse(json.dumps(message), role)["type"] == message["type"]


@pytest.mark.parametrize("raw, role, reason", [
    ("not json", PARTICIPANT, "not JSON"),
    ("[1, 2]", PARTICIPANT, "not an object with a type"),
    (json.dumps({"type": "shout"}), PARTICIPANT, "unknown type"),
    (json.dumps({"type": "view", "view": VIEW}), PARTICIPANT, "'view' is not allowed for a participant"),
    (json.dumps({"type": "poll_open", "poll": {}}), PARTICIPANT, "'poll_open' is not allowed for a participant"),
    (json.dumps({"type": "end"}), PARTICIPANT, "'end' is not allowed"),
    (json.dumps({"type": "ask", "text": "hi"}), PRESENTER, "'ask' is not allowed for a presenter"),
    (json.dumps({"type": "ask", "text": "x" * 501}), PARTICIPANT, "1-500 characters"),
    (json.dumps({"type": "ask", "text": "   "}), PARTICIPANT, "1-500 characters"),
    (json.dumps({"type": "ask", "text": "hi", "as": 4}), PARTICIPANT, "unexpected fields"),
    (json.dumps({"type": "upvote", "question": True}), PARTICIPANT, "whole number"),
    (json.dumps({"type": "following", "value": 1}), PARTICIPANT, "true or false"),
    (json.dumps({"type": "answer", "poll": "p", "answer": {"x": 1}}), PARTICIPANT, "x, y, frame"),
    (json.dumps({"type": "answer", "poll": "p", "answer": -1}), PARTICIPANT, "whole number"),
    (json.dumps({"type": "view", "view": {**VIEW, "zoom": 0}}), PRESENTER, "zoom: expected a number > 0"),
    (json.dumps({"type": "view", "view": {"case": "c", "series": 0}}), PRESENTER, "missing frame"),
    (json.dumps({"type": "view", "view": {**VIEW, "script": "x"}}), PRESENTER, "unexpected view fields"),
    (json.dumps({"type": "view", "view": {**VIEW, "plane": "oblique"}}), PRESENTER, "expected one of axial"),
    ('{"type": "view", "view": {"case": "c", "series": 0, "frame": 1, "zoom": NaN}}', PRESENTER, "finite number"),
    (json.dumps({"type": "poll_open", "poll": {"id": "a", "kind": "choice", "prompt": "?", "options": ["one"]}}),
     PRESENTER, "2 or more options"),
    (json.dumps({"type": "poll_open", "poll": {"id": "a", "kind": "vote", "prompt": "?"}}), PRESENTER, "kind must be"),
])
def test_bad_messages_are_rejected_with_the_rule_they_broke(raw, role, reason):
    with pytest.raises(Rejected, match=reason):
        parse(raw, role)


def test_oversized_messages_are_rejected_before_parsing_and_the_reason_carries_no_content():
    secret = "PATIENT-LIKE-TEXT"
    raw = json.dumps({"type": "ask", "text": secret + "x" * MAX_MESSAGE_BYTES})
    with pytest.raises(Rejected, match="larger than 16384 bytes") as caught:
        parse(raw, PARTICIPANT)
    assert secret not in str(caught.value)


def test_multibyte_text_counts_in_bytes():
    raw = json.dumps({"type": "ask", "text": "é" * 400}, ensure_ascii=False) + " " * (MAX_MESSAGE_BYTES - 820)
    assert len(raw) < MAX_MESSAGE_BYTES < len(raw.encode())
    with pytest.raises(Rejected, match="larger than"):
        parse(raw, PARTICIPANT)


class FakeClock:
    """Time that moves only when the test says so (the bucket's arithmetic, not the machine's speed, is tested)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_allowance_lets_a_burst_through_then_the_average_rate():
    clock = FakeClock()
    allowance = Allowance(rate=10, burst=30, clock=clock)
    assert [allowance.take() for _ in range(31)] == [True] * 30 + [False]
    clock.now += 0.25  # 2.5 messages' worth
    assert [allowance.take() for _ in range(3)] == [True, True, False]
    clock.now += 3600  # an idle hour refills only up to the burst
    assert sum(allowance.take() for _ in range(100)) == 30

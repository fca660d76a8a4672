"""Records a browser made offline, each with its own idempotency key: sent twice (or twice at once), stored once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from readingroom.records import HEARTBEAT_CAP_SECONDS, RecordsError, TestKind

AT = datetime(2026, 3, 5, 22, 0, tzinfo=UTC)
MODULE = "normal-first"


@pytest.fixture
def ana(store):
    return store.add_participant("Ana Ruiz", username="ana", password="a long enough passphrase")


def test_an_answer_sent_again_is_stored_once(store, ana):
    first = store.record_question_answer(ana.id, "case-a", "q0", 1, True, AT, idempotency_key="k-1")
    again = store.record_question_answer(ana.id, "case-a", "q0", 1, True, AT, idempotency_key="k-1")
    assert first is not None and again is None
    assert len(store.question_answers(ana.id)) == 1
    assert store.landed(ana.id, "k-1") and not store.landed(ana.id, "k-2")


def test_the_same_record_sent_by_two_tabs_at_once_lands_once(store, ana):
    def send(_):
        return store.record_evaluation(ana.id, MODULE, {"quality": 4}, AT, idempotency_key="same-key")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(8)))
    assert sum(result is not None for result in results) == 1
    assert len(store.evaluations(ana.id, MODULE)) == 1


def test_keys_are_per_participant(store, ana):
    ben = store.add_participant("Ben Okafor")
    for person in (ana, ben):
        store.record_test_attempt(person.id, MODULE, TestKind.POST, {"p1": 0}, correct=1, total=1, passed=True,
                                  at=AT, idempotency_key="k-1")
    assert len(store.test_attempts(ana.id, MODULE)) == len(store.test_attempts(ben.id, MODULE)) == 1


def test_offline_time_adds_once_and_at_most_a_heartbeat_a_record(store, ana):
    store.record_offline_time(ana.id, MODULE, 30, AT, idempotency_key="t-1")
    store.record_offline_time(ana.id, MODULE, 30, AT, idempotency_key="t-1")
    assert store.module_progress(ana.id, MODULE).seconds_on_task == 30
    with pytest.raises(RecordsError, match="offline time is 0-60 seconds a record, got 3600"):
        store.record_offline_time(ana.id, MODULE, 3600, AT, idempotency_key="t-2")
    assert HEARTBEAT_CAP_SECONDS == 60

"""The journal and its replay into the store (SQLite and a real PostgreSQL): a record acknowledged once
journaled lands exactly once, a record the store refuses is kept and counted, and a session a crash left
open ends at its last activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from readingroom.records import RecordsError, RecordsStore
from readingroom.records.durable import DurableRecords
from readingroom.records.journal import Entry, Journal, LiveConference

T0 = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def durable(store: RecordsStore, tmp_path):
    writer = DurableRecords(store, Journal(tmp_path / "records.journal", store.url))
    yield writer
    writer.close()
    writer.journal.close()


def test_acknowledged_records_land_once_even_when_replayed_after_a_crash(store, durable):
    session = store.create_session("case", "chest-pe-01", T0)
    ana = store.add_participant("Ana Ruiz")
    entries = [Entry("join:1", "join", session.id, ana.id, at(0)),
               Entry("answer:1", "answer", session.id, ana.id, at(5), "p1", 2),
               Entry("leave:1", "leave", session.id, ana.id, at(30))]
    store.record_entries(entries[:2])  # committed to the store, then the crash came before the journal forgot them
    for entry in entries:
        durable.submit(entry).result(timeout=10)  # acknowledged: journaled
    durable.submit(entries[1]).result(timeout=10)  # the page re-sent it with the same key
    assert durable.drain(timeout=30)
    assert [(a.poll_id, a.answer) for a in store.poll_answers(session.id)] == [("p1", 2)]
    assert store.minutes_present(session.id, ana.id, until=at(60)) == 30


def test_a_record_the_store_refuses_is_kept_and_counted_and_the_rest_land(store, durable):
    session = store.create_session("case", "chest-pe-01", T0)
    ana = store.add_participant("Ana Ruiz")
    durable.submit(Entry("join:nobody", "join", session.id, 999_999, at(0))).result(timeout=10)
    durable.submit(Entry("join:ana", "join", session.id, ana.id, at(1))).result(timeout=10)
    assert durable.drain(timeout=30)
    assert durable.status().refused == 1 and durable.status().waiting == 0
    assert store.minutes_present(session.id, ana.id, until=at(11)) == 10


def test_a_session_a_crash_left_open_ends_at_its_last_activity(store):
    session = store.create_session("case", "chest-pe-01", T0)
    ana, bo = store.add_participant("Ana Ruiz"), store.add_participant("Bo Chen")
    store.record_join(session.id, ana.id, at(0))
    store.record_join(session.id, bo.id, at(2))
    store.record_leave(session.id, bo.id, at(10))
    store.record_poll_answer(session.id, ana.id, "p1", 1, at(25))  # the last thing before the crash
    closed = store.close_at_last_activity(session.id)
    assert closed.ends_at == at(25)
    assert store.minutes_present(session.id, ana.id) == 25 and store.minutes_present(session.id, bo.id) == 8
    assert store.close_at_last_activity(session.id).ends_at == at(25)  # a second start changes nothing
    store.reopen_session(session.id)
    store.record_join(session.id, ana.id, at(40))
    store.end_session(session.id, at(50))
    assert store.minutes_present(session.id, ana.id) == 35  # the time the server was down is not counted


def test_a_journal_belongs_to_one_store(store, tmp_path):
    Journal(tmp_path / "j", store.url).close()
    with pytest.raises(RecordsError, match="belongs to the store"):
        Journal(tmp_path / "j", "sqlite:////elsewhere/records.sqlite")


def test_a_journal_serves_one_server_at_a_time(store, tmp_path):
    first = Journal(tmp_path / "j", store.url)
    with pytest.raises(RecordsError, match="in use by another readingroom server"):
        Journal(tmp_path / "j", store.url)
    first.close()
    Journal(tmp_path / "j", store.url).close()  # free again once the first has closed


def test_the_journal_keeps_what_reopens_a_conference_readable_by_its_owner_only(store, tmp_path):
    journal = Journal(tmp_path / "j", store.url)
    journal.remember(LiveConference(7, "ABC234", "token", b"secret"))
    assert journal.conferences() == [LiveConference(7, "ABC234", "token", b"secret")]
    assert (tmp_path / "j").stat().st_mode & 0o077 == 0
    journal.close()

"""What a coordinator notices, on SQLite and on a real PostgreSQL (the ``store`` fixture)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from readingroom.records import (
    AttendanceRow,
    NotFoundError,
    RecordsError,
    PurgeCounts,
    RecordsStore,
    RetentionError,
)
from readingroom.records import models

T0 = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def conference(store: RecordsStore):
    """A one-hour conference on a case, and two participants."""
    session = store.create_session("case", "chest-pe-01", T0, at(60))
    ana = store.add_participant("Ana Ruiz", licence_id="NM-12345")
    bo = store.add_participant("Bo Chen")
    return session, ana, bo


class TestMinutesPresent:
    def test_dropped_link_and_reconnect(self, store, conference):
        session, ana, _ = conference
        store.record_join(session.id, ana.id, at(0))
        store.record_leave(session.id, ana.id, at(20))  # link dropped
        store.record_reconnect(session.id, ana.id, at(25))
        assert store.minutes_present(session.id, ana.id) == 55  # still open: closed at session end

    def test_reconnect_before_the_drop_was_noticed_counts_once(self, store, conference):
        session, ana, _ = conference
        store.record_join(session.id, ana.id, at(0))
        store.record_reconnect(session.id, ana.id, at(10))
        store.record_leave(session.id, ana.id, at(30))
        assert store.minutes_present(session.id, ana.id) == 30

    def test_time_outside_the_session_is_not_counted(self, store, conference):
        session, ana, _ = conference
        store.record_join(session.id, ana.id, at(-15))
        store.record_leave(session.id, ana.id, at(75))
        assert store.minutes_present(session.id, ana.id) == 60

    def test_events_recorded_out_of_order(self, store, conference):
        session, ana, _ = conference
        store.record_leave(session.id, ana.id, at(40))
        store.record_join(session.id, ana.id, at(10))
        assert store.minutes_present(session.id, ana.id) == 30

    def test_never_joined_is_zero(self, store, conference):
        session, ana, _ = conference
        assert store.minutes_present(session.id, ana.id) == 0

    def test_running_session_needs_until(self, store, conference):
        _, ana, _ = conference
        live = store.create_session("module", "chest-basics", T0)
        store.record_join(live.id, ana.id, at(0))
        with pytest.raises(RecordsError, match="has not ended; pass until="):
            store.minutes_present(live.id, ana.id)
        assert store.minutes_present(live.id, ana.id, until=at(12)) == 12
        store.end_session(live.id, at(30))
        assert store.minutes_present(live.id, ana.id) == 30

    def test_other_time_zones_are_converted_to_utc(self, store, conference):
        session, ana, _ = conference
        store.record_join(session.id, ana.id, at(0).astimezone(timezone(timedelta(hours=-7))))
        store.record_leave(session.id, ana.id, at(45))
        assert store.minutes_present(session.id, ana.id) == 45

    def test_naive_timestamps_are_refused(self, store, conference):
        session, ana, _ = conference
        with pytest.raises(RecordsError, match="timezone-aware"):
            store.record_join(session.id, ana.id, datetime(2026, 3, 5, 18, 0))

    def test_unknown_participant_is_refused(self, store, conference):
        session, _, _ = conference
        with pytest.raises(NotFoundError, match="no participant with id 999"):
            store.record_join(session.id, 999, at(0))


class TestAttendanceReport:
    def test_rows_for_each_participant_by_name(self, store, conference):
        session, ana, bo = conference
        store.record_join(session.id, bo.id, at(5))
        store.record_leave(session.id, bo.id, at(50))
        store.record_join(session.id, ana.id, at(0))
        store.record_leave(session.id, ana.id, at(20))
        store.record_reconnect(session.id, ana.id, at(25))
        assert store.attendance_report(session.id) == [
            AttendanceRow(ana.id, "Ana Ruiz", "NM-12345", at(0), at(25), 1, 55.0),
            AttendanceRow(bo.id, "Bo Chen", None, at(5), at(50), 0, 45.0),
        ]

    def test_timestamps_come_back_in_utc(self, store, conference):
        session, ana, _ = conference
        store.record_join(session.id, ana.id, at(0))
        (row,) = store.attendance_report(session.id)
        assert row.first_join.tzinfo is UTC

    def test_other_sessions_are_not_mixed_in(self, store, conference):
        session, ana, bo = conference
        other = store.create_session("case", "neuro-sah-02", T0, at(60))
        store.record_join(other.id, bo.id, at(0))
        store.record_join(session.id, ana.id, at(0))
        assert [r.display_name for r in store.attendance_report(session.id)] == ["Ana Ruiz"]


class TestAnswers:
    def test_poll_answers_stored(self, store, conference):
        session, ana, bo = conference
        store.record_poll_answer(session.id, ana.id, "poll-1", "B", at(10))
        store.record_poll_answer(session.id, bo.id, "poll-2", {"x": 0.42, "y": 0.61, "frame": 37}, at(12))
        answers = store.poll_answers(session.id)
        assert [(a.participant_id, a.poll_id, a.answer, a.answered_at) for a in answers] == [
            (ana.id, "poll-1", "B", at(10)),
            (bo.id, "poll-2", {"x": 0.42, "y": 0.61, "frame": 37}, at(12)),
        ]
        assert [a.answer for a in store.poll_answers(session.id, "poll-2")] == [{"x": 0.42, "y": 0.61, "frame": 37}]

    def test_question_answers_stored(self, store, conference):
        session, ana, _ = conference
        store.record_question_answer(ana.id, "chest-pe-01", "q1", ["a", "c"], True, at(3), session_id=session.id)
        store.record_question_answer(ana.id, "neuro-sah-02", "q1", "subarachnoid", None, at(4))
        answers = store.question_answers(ana.id)
        assert [(a.case_slug, a.question_id, a.answer, a.correct, a.session_id) for a in answers] == [
            ("chest-pe-01", "q1", ["a", "c"], True, session.id),
            ("neuro-sah-02", "q1", "subarachnoid", None, None),
        ]
        assert len(store.question_answers(ana.id, "neuro-sah-02")) == 1


class TestAccountsAndCertificates:
    def test_local_account_password_is_hashed_and_checked(self, store):
        dana = store.add_participant("Dana Obi", username="dana", password="correct horse")
        assert store.authenticate("dana", "correct horse") == dana
        assert store.authenticate("dana", "wrong") is None
        assert store.authenticate("nobody", "correct horse") is None
        with store._session() as s:  # the stored value is an Argon2id hash, not the password
            stored = s.get(models.ParticipantRow, dana.id).password_hash
        assert stored.startswith("$argon2id$") and "correct horse" not in stored

    def test_only_accounts_made_as_educators_are_educators(self, store):
        store.add_participant("Dr Lee", username="lee", password="presenter pass", is_educator=True)
        store.add_participant("Sam Roe", username="sam", password="trainee pass")
        assert store.authenticate("lee", "presenter pass").is_educator
        assert not store.authenticate("sam", "trainee pass").is_educator

    def test_a_hub_user_becomes_an_educator_and_stops_being_one_as_the_hub_says(self, store):
        first = store.single_sign_on("dr.mensah", educator=True)
        assert first.is_educator and store.authenticate("dr.mensah", "") is None  # no local password
        assert not store.single_sign_on("dr.mensah", educator=False).is_educator  # taken out of the hub's group
        again = store.single_sign_on("dr.mensah")  # a proxy that says nothing about roles changes none
        assert again.id == first.id and not again.is_educator

    def test_certificate_verification_code(self, store, conference):
        _, ana, _ = conference
        cert = store.issue_certificate(ana.id, "chest-basics", 5, at(60))
        assert len(cert.code) == 12
        assert store.certificate(cert.code.lower()) == cert
        assert store.certificate("NOTACODE0000") is None


class TestRetention:
    NOW = datetime(2032, 6, 1, tzinfo=UTC)

    def test_purge_refuses_less_than_six_years(self, store):
        with pytest.raises(RetentionError, match="kept 6 years, so the cutoff must be on or before 2026-06-01"):
            store.purge_before(datetime(2026, 6, 2, tzinfo=UTC), now=self.NOW)

    def test_purge_deletes_only_older_records(self, store, conference):
        session, ana, bo = conference  # everything at T0 (2026-03-05) is now over six years old
        store.record_join(session.id, ana.id, at(0))
        store.record_poll_answer(session.id, ana.id, "poll-1", "A", at(10))
        store.record_question_answer(ana.id, "chest-pe-01", "q1", "A", False, at(11))
        later = store.create_session("case", "chest-pe-01", datetime(2027, 1, 1, tzinfo=UTC))
        store.record_join(later.id, bo.id, datetime(2027, 1, 1, tzinfo=UTC))
        counts = store.purge_before(datetime(2026, 6, 1, tzinfo=UTC), now=self.NOW)
        assert counts == PurgeCounts(attendance_events=1, poll_answers=1, question_answers=1)
        assert store.attendance_report(session.id) == []
        assert store.poll_answers(session.id) == []
        assert [r.display_name for r in store.attendance_report(later.id, until=datetime(2027, 1, 1, 1, tzinfo=UTC))] == [
            "Bo Chen"
        ]

    def test_leap_day_cutoff(self, store):
        now = datetime(2032, 2, 29, tzinfo=UTC)
        assert store.purge_before(datetime(2026, 2, 28, tzinfo=UTC), now=now) == PurgeCounts(0, 0, 0)


def test_no_patient_fields_anywhere():
    """Records are about people attending, never patients (DESIGN.md data path 6)."""
    columns = {c.name for t in models.Base.metadata.tables.values() for c in t.columns}
    assert not {c for c in columns if "patient" in c or "mrn" in c or "birth" in c}


def test_participant_values_are_plain_dataclasses(store):
    person = store.add_participant("Eve")
    assert dataclasses.is_dataclass(person) and type(person).__module__ == "readingroom.records.values"


def test_same_report_on_both_databases(tmp_path, postgres_server):
    """A deployment moving from SQLite to PostgreSQL must not change anyone's credit."""
    import psycopg

    from readingroom.records import sqlite_url

    with psycopg.connect(postgres_server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE records_compare")
    results = []
    for url in (sqlite_url(tmp_path / "r.sqlite"), f"{postgres_server}/records_compare"):
        with RecordsStore(url) as store:
            session = store.create_session("module", "chest-basics", T0, at(90))
            people = [store.add_participant(name) for name in ("Zoe Park", "ana ruiz", "Bo Chen")]
            for n, person in enumerate(people):
                store.record_join(session.id, person.id, at(n * 7.5))
                store.record_leave(session.id, person.id, at(30 + n))
                store.record_reconnect(session.id, person.id, at(41.25))
            store.record_poll_answer(session.id, people[0].id, "p", {"x": 0.1, "y": 0.9}, at(50))
            results.append((store.attendance_report(session.id), store.poll_answers(session.id)))
    assert results[0] == results[1]
    assert [row.minutes_present for row in results[0][0]] == [72.25, 65.75, 78.75]

"""Module progress, tests, evaluations and credit certificates, on SQLite and a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from readingroom.records import HEARTBEAT_CAP_SECONDS, NotFoundError, PurgeCounts, RecordsError, RecordsStore, TestKind

T0 = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
MODULE = "first-look-emergency-reads"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def ana(store: RecordsStore):
    return store.add_participant("Ana Ruiz", licence_id="NM-12345")


class TestProgress:
    def test_start_is_remembered_once(self, store, ana):
        first = store.start_module(ana.id, MODULE, at(0))
        again = store.start_module(ana.id, MODULE, at(500))
        assert first == again
        assert again.started_at == T0 and again.position == 0 and again.seconds_on_task == 0
        assert store.module_progress(ana.id, "another-module") is None

    def test_heartbeats_add_time_on_task_with_a_cap_per_beat(self, store, ana):
        store.record_heartbeat(ana.id, MODULE, at(0))
        store.record_heartbeat(ana.id, MODULE, at(30))
        store.record_heartbeat(ana.id, MODULE, at(60))
        progress = store.record_heartbeat(ana.id, MODULE, at(60 + 3 * 3600))  # tab left open for three hours
        assert progress.seconds_on_task == 60 + HEARTBEAT_CAP_SECONDS
        assert progress.last_heartbeat_at == at(60 + 3 * 3600)

    def test_two_modules_open_at_once_count_as_one(self, store, ana):
        other = "normal-first"
        for t in range(0, 301, 30):  # both tabs beat every 30 s for five minutes
            store.record_heartbeat(ana.id, MODULE, at(t))
            store.record_heartbeat(ana.id, other, at(t + 10))
        assert store.module_progress(ana.id, MODULE).seconds_on_task == 300  # the first one open holds the clock
        assert store.module_progress(ana.id, other).seconds_on_task == 0
        # The first tab is closed (last beat at 300 s); the other takes the clock once the first has gone
        # quiet, at its beat at 380 s, and counts from there: no second counted twice.
        for t in range(340, 461, 30):
            store.record_heartbeat(ana.id, other, at(t + 10))
        later = store.module_progress(ana.id, other)
        assert later.seconds_on_task == 470 - 380 and later.last_heartbeat_at == at(470)
        assert store.module_progress(ana.id, MODULE).seconds_on_task == 300

    def test_time_away_before_a_resumed_beat_adds_nothing(self, store, ana):
        store.record_heartbeat(ana.id, MODULE, at(0))
        store.record_heartbeat(ana.id, MODULE, at(30))  # then the tab was hidden, or the learner idle
        store.record_heartbeat(ana.id, MODULE, at(30 + 50), resumed=True)
        assert store.record_heartbeat(ana.id, MODULE, at(30 + 50 + 30)).seconds_on_task == 60

    def test_a_late_or_repeated_heartbeat_adds_nothing(self, store, ana):
        store.record_heartbeat(ana.id, MODULE, at(0))
        store.record_heartbeat(ana.id, MODULE, at(40))
        store.record_heartbeat(ana.id, MODULE, at(40))
        assert store.record_heartbeat(ana.id, MODULE, at(20)).seconds_on_task == 40

    def test_resume_position(self, store, ana):
        store.record_heartbeat(ana.id, MODULE, at(0), position=2)
        assert store.module_progress(ana.id, MODULE).position == 2
        store.record_position(ana.id, MODULE, 3, at(10))
        assert store.module_progress(ana.id, MODULE).position == 3
        with pytest.raises(RecordsError, match="step index >= 0"):
            store.record_position(ana.id, MODULE, -1, at(20))

    def test_first_disclosure_view_counts(self, store, ana):
        store.start_module(ana.id, MODULE, at(0))
        store.record_disclosures_seen(ana.id, MODULE, at(5))
        assert store.record_disclosures_seen(ana.id, MODULE, at(99)).disclosures_seen_at == at(5)

    def test_progress_is_per_participant(self, store, ana):
        bo = store.add_participant("Bo Chen")
        store.record_heartbeat(ana.id, MODULE, at(0), position=4)
        store.start_module(bo.id, MODULE, at(0))
        assert store.module_progress(bo.id, MODULE).position == 0

    def test_unknown_participant(self, store):
        with pytest.raises(NotFoundError):
            store.start_module(999, MODULE, at(0))


class TestAttemptsAndEvaluations:
    def test_attempts_by_kind_in_order(self, store, ana):
        store.record_test_attempt(ana.id, MODULE, "pre", {"a": 1}, correct=0, total=1, passed=False, at=at(0))
        store.record_test_attempt(ana.id, MODULE, TestKind.POST, {"b": 0}, correct=2, total=4, passed=False, at=at(10))
        store.record_test_attempt(ana.id, MODULE, "post", {"b": 1}, correct=4, total=4, passed=True, at=at(20))
        posts = store.test_attempts(ana.id, MODULE, "post")
        assert [(a.kind, a.correct, a.passed, a.answers) for a in posts] == [
            (TestKind.POST, 2, False, {"b": 0}),
            (TestKind.POST, 4, True, {"b": 1}),
        ]
        assert len(store.test_attempts(ana.id, MODULE)) == 3

    def test_impossible_score_is_refused(self, store, ana):
        with pytest.raises(RecordsError, match="correct <= total"):
            store.record_test_attempt(ana.id, MODULE, "post", {}, correct=5, total=4, passed=True, at=at(0))

    def test_evaluation_round_trip(self, store, ana):
        answers = {"quality": 4, "practice-change": "Call neurosurgery earlier", "free-of-bias": 0}
        store.record_evaluation(ana.id, MODULE, answers, at(30))
        [saved] = store.evaluations(ana.id, MODULE)
        assert saved.answers == answers and saved.at == at(30)
        assert store.evaluations(ana.id, "other") == []

    def test_purge_after_six_years_includes_tests_and_evaluations(self, store, ana):
        store.record_test_attempt(ana.id, MODULE, "post", {}, correct=1, total=1, passed=True, at=at(0))
        store.record_evaluation(ana.id, MODULE, {"quality": 4}, at(0))
        counts = store.purge_before(datetime(2027, 1, 1, tzinfo=UTC), now=datetime(2033, 1, 1, tzinfo=UTC))
        assert counts == PurgeCounts(0, 0, 0, test_attempts=1, evaluations=1)
        assert store.test_attempts(ana.id, MODULE) == [] and store.evaluations(ana.id, MODULE) == []


class TestCertificatesAndExport:
    def test_module_certificate_fields_round_trip(self, store, ana):
        cert = store.issue_certificate(
            ana.id,
            "First look",
            3,
            at(3600),
            module=MODULE,
            credit_type="AMA PRA Category 1 Credit",
            format="self-study",
            started_at=at(0),
        )
        assert store.certificate(cert.code) == cert
        assert (cert.module, cert.format, cert.started_at, cert.quarter_hours) == (MODULE, "self-study", at(0), 3)
        assert store.certificates(ana.id, MODULE) == [cert]
        assert store.certificates(ana.id, "other") == []

    def test_the_same_teaching_is_certified_once_however_often_and_at_once_it_is_asked(self, store, ana):
        """A reload, two tabs or two server processes submitting at the same moment make one certificate each."""
        from concurrent.futures import ThreadPoolExecutor

        session = store.create_session("module", MODULE, at(0), at(3600))
        kinds = [{"format": "self-study"}, {"format": "live", "session_id": session.id}]
        for kind in kinds:
            def issue(_, kind=kind):
                return store.issue_certificate(ana.id, "First look", 3, at(3600), module=MODULE, **kind)

            with ThreadPoolExecutor(4) as pool:
                issued = list(pool.map(issue, range(4)))
            assert len({c.code for c in issued + [issue(None)]}) == 1
        assert sorted(c.format for c in store.certificates(ana.id, MODULE)) == ["live", "self-study"]

    def test_unknown_format_is_refused(self, store, ana):
        with pytest.raises(RecordsError, match="format must be one of"):
            store.issue_certificate(ana.id, "First look", 3, at(0), format="webinar")

    def test_export_has_the_fields_boards_ask_for(self, store, ana):
        bo = store.add_participant("Bo Chen")
        store.issue_certificate(bo.id, "Live", 4, at(7200), credit_type="AMA PRA Category 1 Credit", format="live")
        store.issue_certificate(
            ana.id, "First look", 3, at(3600), credit_type="AMA PRA Category 1 Credit", format="self-study"
        )
        rows = store.credit_export()
        assert [(r.display_name, r.licence_id, r.activity, r.quarter_hours, r.format) for r in rows] == [
            ("Ana Ruiz", "NM-12345", "First look", 3, "self-study"),
            ("Bo Chen", None, "Live", 4, "live"),
        ]
        assert [r.display_name for r in store.credit_export(since=at(3601))] == ["Bo Chen"]
        assert [r.display_name for r in store.credit_export(until=at(3601))] == ["Ana Ruiz"]


def test_usernames_are_unique_with_a_clear_error(store):
    store.add_participant("Dana Obi", username="dana", password="pw one")
    with pytest.raises(RecordsError, match="'dana' is taken"):
        store.add_participant("Dana Other", username="dana", password="pw two")

"""CME credit from recorded attendance and time on task, on SQLite and a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from readingroom.curriculum import (
    CreditNotEarned,
    award,
    award_earned,
    live_credit,
    load_module,
    quarter_hours,
    self_study_credit,
)

from .conftest import valid_module

T0 = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def module(write_module, tree):
    """One credit maximum over a 60-minute module on two cases."""
    return load_module(write_module(valid_module()), cases_root=tree / "cases")


@pytest.fixture
def ana(store):
    return store.add_participant("Ana Ruiz", licence_id="NM-12345")


@pytest.mark.parametrize(
    "minutes, max_credits, expected",
    [
        (14.99, 1.0, 0),
        (15, 1.0, 1),
        (44, 1.0, 2),
        (45, 1.0, 3),
        (2699.99 / 60, 1.0, 2),
        (2699.9999999 / 60, 1.0, 3),  # float noise around 45 minutes still counts 45
        (55, 1.0, 3),
        (600, 1.0, 4),  # capped at the designated maximum
        (600, 0.75, 3),
        (0, 1.0, 0),
    ],
)
def test_quarter_hours_round_down_and_cap(minutes, max_credits, expected):
    assert quarter_hours(minutes, max_credits) == expected


def test_negative_minutes_are_a_bug():
    with pytest.raises(ValueError, match="minutes must be >= 0"):
        quarter_hours(-1, 1.0)


class TestLiveCredit:
    def test_from_recorded_attendance_with_a_dropped_link(self, store, module, ana):
        session = store.create_session("module", module.name, T0, at(60))
        bo = store.add_participant("Bo Chen")
        store.record_join(session.id, ana.id, at(2))
        store.record_leave(session.id, ana.id, at(20))  # link dropped
        store.record_reconnect(session.id, ana.id, at(27))  # 18 + 33 = 51 minutes present
        store.record_join(session.id, bo.id, at(-5))
        assert live_credit(store, session.id, ana.id, module) == 3  # 51 minutes -> 3 quarter hours
        assert live_credit(store, session.id, bo.id, module) == 4  # the whole hour, the maximum

    def test_cap_at_the_designated_maximum(self, store, write_module, tree, ana):
        data = valid_module()
        data["credit"]["max_credits"] = 0.5
        short = load_module(write_module(data, name="short"))
        session = store.create_session("module", "short", T0, at(60))
        store.record_join(session.id, ana.id, at(0))
        assert live_credit(store, session.id, ana.id, short) == 2

    def test_a_case_conference_on_one_of_the_module_cases_counts(self, store, module, ana):
        session = store.create_session("case", "case-two", T0, at(30))
        store.record_join(session.id, ana.id, at(0))
        assert live_credit(store, session.id, ana.id, module) == 2

    def test_a_session_on_something_else_does_not(self, store, module, ana):
        session = store.create_session("case", "unrelated-case", T0, at(30))
        store.record_join(session.id, ana.id, at(0))
        with pytest.raises(CreditNotEarned, match="is not part of the module"):
            live_credit(store, session.id, ana.id, module)

    def test_only_once_the_session_ended(self, store, module, ana):
        session = store.create_session("module", module.name, T0)
        store.record_join(session.id, ana.id, at(0))
        with pytest.raises(CreditNotEarned, match="has not ended yet"):
            live_credit(store, session.id, ana.id, module)


def _beat(store, participant_id, module, minutes: int, every_seconds: int = 60) -> None:
    for second in range(0, minutes * 60 + 1, every_seconds):
        store.record_heartbeat(participant_id, module.name, T0 + timedelta(seconds=second))


class TestSelfStudyCredit:
    def test_from_time_on_task(self, store, module, ana):
        _beat(store, ana.id, module, 50)
        assert self_study_credit(store.module_progress(ana.id, module.name), module) == 3

    def test_a_tab_left_open_does_not_earn(self, store, module, ana):
        store.record_heartbeat(ana.id, module.name, at(0))
        store.record_heartbeat(ana.id, module.name, at(240))
        assert self_study_credit(store.module_progress(ana.id, module.name), module) == 0

    def test_never_started(self, module):
        assert self_study_credit(None, module) == 0


def _complete(store, participant_id, module, *, disclosures=True, post_test=True, evaluation=True) -> None:
    store.start_module(participant_id, module.name, at(0))
    if disclosures:
        store.record_disclosures_seen(participant_id, module.name, at(0))
    _beat(store, participant_id, module, 40)
    store.record_test_attempt(participant_id, module.name, "post", {}, correct=2, total=4, passed=False, at=at(41))
    if post_test:
        store.record_test_attempt(participant_id, module.name, "post", {}, correct=4, total=4, passed=True, at=at(42))
    if evaluation:
        store.record_evaluation(participant_id, module.name, {"quality": 4}, at(43))


class TestAward:
    @pytest.mark.parametrize(
        "missing, reason",
        [
            ("disclosures", "the faculty disclosures have not been shown"),
            ("post_test", r"the post-test has not been passed \(pass mark 75 %\)"),
            ("evaluation", "the activity evaluation has not been submitted"),
        ],
    )
    def test_each_missing_condition_refuses_with_its_reason(self, store, module, ana, missing, reason):
        _complete(store, ana.id, module, **{missing: False})
        with pytest.raises(CreditNotEarned, match=reason):
            award(store, ana.id, module, now=at(50))
        assert store.certificates(ana.id) == []

    def test_self_study_certificate(self, store, module, ana):
        _complete(store, ana.id, module)
        cert = award(store, ana.id, module, now=at(50))
        assert (cert.quarter_hours, cert.format, cert.module, cert.activity) == (
            2,
            "self-study",
            module.name,
            "Test module",
        )
        assert (cert.started_at, cert.completed_at, cert.credit_type) == (at(0), at(50), "AMA PRA Category 1 Credit")
        assert store.certificate(cert.code) == cert

    def test_asking_again_returns_the_same_certificate(self, store, module, ana):
        _complete(store, ana.id, module)
        first = award(store, ana.id, module, now=at(50))
        assert award(store, ana.id, module, now=at(90)) == first
        assert len(store.certificates(ana.id)) == 1

    def test_live_certificate_uses_the_session(self, store, module, ana):
        _complete(store, ana.id, module)
        session = store.create_session("module", module.name, at(100), at(160))
        store.record_join(session.id, ana.id, at(100))
        cert = award(store, ana.id, module, now=at(200), session_id=session.id)
        assert (cert.quarter_hours, cert.format, cert.session_id) == (4, "live", session.id)
        assert (cert.started_at, cert.completed_at) == (at(100), at(160))
        assert len(store.certificates(ana.id, module.name)) == 1

    def test_attended_conferences_earn_live_credit_and_no_self_study_twice(self, store, module, ana):
        _complete(store, ana.id, module)
        ended = store.create_session("module", module.name, at(100), at(160))
        store.record_join(ended.id, ana.id, at(110))  # 50 minutes -> 3 quarter hours
        other = store.create_session("case", "not-in-this-module", at(100), at(160))
        store.record_join(other.id, ana.id, at(100))
        running = store.create_session("module", module.name, at(170))
        store.record_join(running.id, ana.id, at(170))
        earned = award_earned(store, ana.id, module, now=at(200))
        assert [(c.format, c.session_id, c.quarter_hours) for c in earned] == [("live", ended.id, 3)]
        assert award_earned(store, ana.id, module, now=at(300)) == earned  # asking again changes nothing

    def test_without_a_conference_self_study_is_awarded(self, store, module, ana):
        _complete(store, ana.id, module)
        assert [c.format for c in award_earned(store, ana.id, module, now=at(50))] == ["self-study"]

    def test_under_a_quarter_hour_earns_nothing(self, store, module, ana):
        store.record_disclosures_seen(ana.id, module.name, at(0))
        store.record_test_attempt(ana.id, module.name, "post", {}, correct=4, total=4, passed=True, at=at(1))
        store.record_evaluation(ana.id, module.name, {"quality": 4}, at(2))
        with pytest.raises(CreditNotEarned, match="less than a quarter hour"):
            award(store, ana.id, module, now=at(3))

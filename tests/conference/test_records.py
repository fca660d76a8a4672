"""Attendance and poll answers written by a real conference server, read back from its records store."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from readingroom.records import RecordsStore
from tests.conference.conftest import (
    Client,
    attendance_kinds,
    start_conference,
    wait_for,
)


def test_join_leave_reconnect_and_poll_answers_are_recorded(any_live):
    live = any_live
    presenter = live.presenter()
    ann = live.participant("Ann Attendee")
    me, poll = ann.joined["participant"], f"cme-{uuid.uuid4().hex[:8]}"
    presenter.send({"type": "poll_open", "poll": {"id": poll, "kind": "choice", "prompt": "Next step?",
                                                  "options": ["CT", "MRI", "Nothing"]}})
    ann.next("poll")
    ann.send({"type": "answer", "poll": poll, "answer": 0})
    ann.send({"type": "answer", "poll": poll, "answer": 1})  # changed her mind: the last one counts live
    wait_for(lambda: presenter.next("results")["counts"] == [0, 1, 0], "both answers counted")
    ann.close()
    wait_for(lambda: attendance_kinds(live.records_url, live.session, me) == ["join", "leave"], "join and leave rows")
    again = Client(live, ann.path, ann.joined)
    again.close()
    assert wait_for(lambda: (k := attendance_kinds(live.records_url, live.session, me)) == ["join", "leave", "reconnect", "leave"]
                    and k, "the reconnect and the second leave")
    with RecordsStore(live.records_url) as store:
        answers = store.poll_answers(live.session, poll)
        assert [(a.participant_id, a.answer) for a in answers] == [(me, 0), (me, 1)]
        row = next(r for r in store.attendance_report(live.session, until=datetime.now(UTC)) if r.participant_id == me)
        assert (row.display_name, row.reconnects) == ("Ann Attendee", 1)
    presenter.send({"type": "poll_close", "poll": poll})  # the shared server's next test opens a poll of its own
    presenter.next("results")
    presenter.close()


def test_stopping_the_server_ends_the_conference_and_closes_open_attendance(tmp_path):
    live = start_conference(tmp_path, f"sqlite:///{tmp_path / 'records.sqlite'}")
    try:
        stays = live.participant("Stays to the end")
        me = stays.joined["participant"]
        wait_for(lambda: attendance_kinds(live.records_url, live.session, me) == ["join"], "the join row")
    finally:
        live.server.stop()
    assert live.server.proc.returncode == 0  # a clean stop on SIGTERM, like systemd or Ctrl-C
    assert attendance_kinds(live.records_url, live.session, me) == ["join", "leave"]
    with RecordsStore(live.records_url) as store:
        assert store.session(live.session).ends_at is not None
        assert store.minutes_present(live.session, me) >= 0  # countable without `until`: the session has an end

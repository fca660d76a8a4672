"""What was acknowledged survives: a real `conference start` killed with SIGKILL, its PostgreSQL stopped
mid-session, its disk filled; and a restart reopens the conference with the links everyone holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from websockets.exceptions import ConnectionClosedError

from readingroom.records import RecordsStore
from tests.conference.conftest import (
    CASE,
    Client,
    attendance_kinds,
    start_conference,
    stored_answer_keys,
    wait_for,
)
from tests.records import schema_50066d5 as old
from tests.servers import free_port


def _open_poll(presenter: Client) -> str:
    poll = f"p{uuid.uuid4().hex[:8]}"
    presenter.send({"type": "poll_open", "poll": {"id": poll, "kind": "choice", "prompt": "Next step?",
                                                  "options": ["CT", "MRI", "Nothing"]}})
    presenter.next("results")
    return poll


def _key() -> str:
    return uuid.uuid4().hex


def _records_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'records.sqlite'}"
    server = request.getfixturevalue("own_postgres")
    return server.create_database("conference")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_after_acknowledged_answers_loses_none_and_the_restart_resumes_with_the_same_links(
        backend, tmp_path, request):
    url = _records_url(backend, tmp_path, request)
    live = start_conference(tmp_path, url)
    try:
        presenter = live.presenter()
        people = [live.participant(f"Attendee {n}") for n in range(12)]
        poll = _open_poll(presenter)
        saved = []
        for n, person in enumerate(people):
            for answer in (n % 3, (n + 1) % 3):  # a changed mind: both answers are records
                key = _key()
                assert person.answer(poll, answer, key)["type"] == "saved"
                saved.append(f"answer:{live.session}:{person.joined['participant']}:{key}")
    finally:
        live.server.proc.send_signal(signal.SIGKILL)  # at once after the last acknowledgement
        live.server.proc.wait()
    again = start_conference(tmp_path, url)
    try:
        assert f"Resumed session {live.session}, left open by a crash" in again.output
        assert (again.session, again.code, again.token) == (live.session, live.code, live.token)
        assert sorted(stored_answer_keys(url, live.session)) == sorted(saved)  # the journal was replayed before listening
        first = people[0].joined["participant"]
        assert attendance_kinds(url, live.session, first) == ["join", "leave"]  # closed at the last activity
        back = Client(again, people[0].path, people[0].joined)  # the ticket issued before the crash still opens it
        assert back.welcome["you"]["id"] == first
        wait_for(lambda: attendance_kinds(url, live.session, first) == ["join", "leave", "join"], "the rejoin recorded")
        with RecordsStore(url) as store:
            assert store.session(live.session).ends_at is None  # running again
        status, joined = again.join("Late Comer", code=live.code)  # the code on the slides still works
        assert status == 200 and joined["session"] == live.session
        back.close()
    finally:
        again.server.stop()


def test_conference_resume_reopens_an_ended_session_with_the_same_code_and_links(tmp_path):
    url = f"sqlite:///{tmp_path / 'records.sqlite'}"
    live = start_conference(tmp_path, url)
    ann = live.participant("Ann Attendee")
    live.server.stop()  # a clean stop ends the session
    again = start_conference(tmp_path, url, command=("resume", str(live.session), "--cases=cases"))
    try:
        assert f"Resumed session {live.session}" in again.output
        assert (again.session, again.code, again.token) == (live.session, live.code, live.token)
        back = Client(again, ann.path, ann.joined)
        assert back.welcome["you"]["id"] == ann.joined["participant"]
        back.close()
    finally:
        again.server.stop()
    unknown = subprocess.run([sys.executable, "-m", "readingroom", "conference", "resume", "999",
                              f"--cases={tmp_path / 'cases'}", f"--port={free_port()}", f"--records={url}"],
                             capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "XDG_DATA_HOME": str(tmp_path)})
    lines = unknown.stderr.strip().splitlines()
    assert unknown.returncode == 2 and len(lines) == 1 and "session 999 was not started by this server" in lines[0]


def test_postgres_stopped_mid_session_loses_nothing_and_the_console_counts_what_waits(tmp_path, own_postgres):
    url = own_postgres.create_database("conference")
    live = start_conference(tmp_path, url)
    try:
        presenter = live.presenter()
        assert presenter.welcome["records"]["waiting"] == 0
        ann, bo = live.participant("Ann Attendee"), live.participant("Bo Bystander")
        poll = _open_poll(presenter)
        keys = {}
        for person, answer in ((ann, 0), (bo, 1)):
            key = _key()
            assert person.answer(poll, answer, key)["type"] == "saved"
            keys[key] = person.joined["participant"]
        wait_for(lambda: len(stored_answer_keys(url, live.session)) == 2, "the first answers in PostgreSQL")
        own_postgres.stop()
        for person, answer in ((ann, 2), (bo, 2)):  # acknowledged from the journal while the store is down
            key = _key()
            assert person.answer(poll, answer, key)["type"] == "saved"
            keys[key] = person.joined["participant"]
        bo.close()  # a leave during the outage: it must not be lost, or Bo's minutes are overcounted
        outage = wait_for(lambda: _records_message(presenter, lambda m: m["problem"] and m["waiting"] >= 3),
                          "the console told of the outage")
        assert outage["waiting"] >= 3  # two answers and a leave, kept on the server
        status, body = live.join("Cy Newcomer")
        assert status == 503 and "saving, will retry" in body["error"]
        own_postgres.start()
        wait_for(lambda: _records_message(presenter, lambda m: not m["problem"] and m["waiting"] == 0),
                 "the console told everything is saved")
        stored = stored_answer_keys(url, live.session)
        assert sorted(stored) == sorted(f"answer:{live.session}:{p}:{k}" for k, p in keys.items())
        assert attendance_kinds(url, live.session, bo.joined["participant"]) == ["join", "leave"]
        assert live.join("Cy Newcomer")[0] == 200
    finally:
        live.server.stop()


def _records_message(presenter: Client, wanted) -> dict | None:
    """The next ``records`` message to the presenter, if it is the one ``wanted``."""
    message = presenter.next("records", timeout=15)
    return message if wanted(message) else None


@pytest.fixture
def tiny_disk(tmp_path) -> Path:
    """An 8 MB tmpfs: the records store and its journal on a disk a test can fill."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the full-disk test, but mount failed: {mounted.stderr.decode().strip()}")
        pytest.skip("mounting a tmpfs needs root")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _fill(folder: Path) -> Path:
    """A file taking every byte the disk has left."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_full_disk_acknowledges_nothing_it_cannot_keep_and_loses_nothing_it_acknowledged(
        backend, tmp_path, tiny_disk, request):
    """SQLite: the store and the journal on the full disk; PostgreSQL: the journal alone."""
    if backend == "sqlite":
        url, extra = f"sqlite:///{tiny_disk / 'records.sqlite'}", ()
    else:
        url, extra = _records_url(backend, tmp_path, request), (f"--journal={tiny_disk / 'records.journal'}",)
    live = start_conference(tmp_path, url, extra)
    try:
        presenter = live.presenter()
        people = [live.participant(f"Attendee {n}") for n in range(3)]
        poll = _open_poll(presenter)
        saved, refused = [], None
        filler = _fill(tiny_disk)
        for n in range(300):  # the journal's log has a little room left: answer until it has none
            person, key = people[n % 3], _key()
            reply = person.answer(poll, n % 3, key)
            if reply["type"] == "unsaved":
                refused = (person, n % 3, key)
                assert reply["error"] == "saving, will retry"
                break
            saved.append(f"answer:{live.session}:{person.joined['participant']}:{key}")
        assert refused is not None, "the full disk was never felt"
        status, body = live.join("Dee Disk")
        if backend == "sqlite":  # the store cannot make the participant: the join page says so and retries
            assert status == 503 and "saving, will retry" in body["error"]
        else:  # the store can, but the journal cannot keep the join: the socket says try again later
            with pytest.raises(ConnectionClosedError, match="1013.*saving, will retry"):
                Client(live, f"/readingroom/conference/{body['session']}/ws?ticket={body['ticket']}", body)
        filler.unlink()
        person, answer, key = refused
        assert person.answer(poll, answer, key)["type"] == "saved"  # the page re-sends it with the same key
        saved.append(f"answer:{live.session}:{person.joined['participant']}:{key}")
        wait_for(lambda: sorted(stored_answer_keys(url, live.session)) == sorted(saved), "every acknowledged answer stored")
    finally:
        live.server.stop()


def test_an_old_store_is_refused_at_start_with_one_line_naming_records_upgrade(tmp_path):
    store = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{store}")
    old.Base.metadata.create_all(engine)
    engine.dispose()
    cases = Path(__file__).resolve().parents[2] / "cases"
    done = subprocess.run([sys.executable, "-m", "readingroom", "conference", "start", CASE, f"--cases={cases}",
                           f"--port={free_port()}", f"--records=sqlite:///{store}"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "XDG_DATA_HOME": str(tmp_path)})
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "older schema" in lines[0] and "readingroom records upgrade --records" in lines[0]

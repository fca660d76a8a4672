"""Redis away: at start one line says so; mid-session the sockets close, pages reconnect, and the conference
goes on where it was once Redis is back, with nothing acknowledged lost; an end on one process reaches all."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conference.conftest import (
    CASE,
    CASES,
    Client,
    attendance_kinds,
    serve_beside,
    start_conference,
    wait_for,
)
from tests.redis_fixtures import own_redis  # noqa: F401  (a fixture)
from tests.servers import free_port


def test_conference_start_with_redis_down_says_so_in_one_line(tmp_path):
    port = free_port()  # nothing listens there
    done = subprocess.run([sys.executable, "-m", "readingroom", "conference", "start", str(CASES / CASE),
                           f"--port={free_port()}", f"--records=sqlite:///{tmp_path / 'records.sqlite'}",
                           f"--redis=redis://127.0.0.1:{port}/0"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"--redis redis://127.0.0.1:{port}/0: Redis does not answer" in lines[0], done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def _reconnected(live, path: str, joined: dict) -> Client | None:
    """A socket once the process takes them again (refused with 503, or closed at once, while Redis is away)."""
    try:
        return Client(live, path, joined)
    except (InvalidStatus, ConnectionClosed, OSError):
        return None


def test_redis_stopped_mid_session_closes_sockets_and_the_room_goes_on_when_it_is_back(
        tmp_path, postgres_server, own_redis):  # noqa: F811
    import psycopg

    name = f"outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server.replace("+psycopg", "") + "/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    redis = (f"--redis={own_redis.url}",)
    a = start_conference(tmp_path / "a", f"{postgres_server}/{name}", extra=redis)
    b = serve_beside(a, tmp_path / "b", redis)
    try:
        presenter, follower = a.presenter(), b.participant("Ona Outage")
        view = {"case": presenter.welcome["agenda"][0]["case"], "series": 0, "frame": 0, "zoom": 2.0}
        presenter.send({"type": "view", "view": view, "t": None})
        assert follower.next("view")["view"] == view

        own_redis.stop()
        for client in (presenter, follower):
            with pytest.raises(ConnectionClosed):
                while True:
                    client.next(timeout=20)
            assert client.socket.close_code == 1011  # not 4xxx: the page reconnects by itself
        for live in (a, b):
            wait_for(lambda live=live: "Redis at" in live.log_text() and "is unreachable" in live.log_text(),
                     "one line in the log saying Redis is unreachable")
            assert live.log_text().count("is unreachable (") == 1
        assert _reconnected(b, follower.path, follower.joined) is None

        own_redis.start()
        back = wait_for(lambda: _reconnected(b, follower.path, follower.joined), "the follower back on B", 30)
        assert back.welcome["view"] == view and back.welcome["seq"] == follower.welcome["seq"] + 1
        console = wait_for(lambda: _reconnected(a, presenter.path, {}), "the presenter back on A", 30)
        later = {**view, "frame": 0, "zoom": 3.0}
        console.send({"type": "view", "view": later, "t": None})
        assert back.next("view")["view"] == later
        participant = follower.joined["participant"]
        wait_for(lambda: attendance_kinds(a.records_url, a.session, participant) == ["join", "leave", "reconnect"],
                 "the outage in the attendance: a leave when Redis came back, then the reconnect")

        console.send({"type": "end"})  # ended on A: the participant on B hears it and leaves, once
        assert back.next("ended") == {"type": "ended"}
        wait_for(lambda: attendance_kinds(a.records_url, a.session, participant) == [
            "join", "leave", "reconnect", "leave"], "one leave at the end")
        for client in (console, back):
            client.close()
    finally:
        for live in (a, b):
            live.server.stop()

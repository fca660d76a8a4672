"""Real `readingroom conference start` processes on free ports, and real websocket and HTTP clients for them.

One server per records backend (SQLite, and PostgreSQL from tests/postgres_fixtures.py),
each over a copy of one small sample case. Its Jupyter config sets a known cookie
secret, so a test can sign in as an educator the way the learning pages do.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import shutil
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select
from tornado.web import create_signed_value
from websockets.sync.client import ClientConnection, connect

from readingroom.records.models import AttendanceEventRow, PollAnswerRow
from tests.servers import Server, free_port, jupyter_env, wait_for  # noqa: F401  (wait_for: for the tests here)

CASES = Path(__file__).resolve().parents[2] / "cases"
CASE = "chronic-subdural-haematoma-with-mass-effect"  # the smallest sample case: a quick start
SECOND_CASE = "non-ossifying-fibroma-of-the-distal-tibia"
MODULE = "two-first-looks"  # a sample module cut down to the two cases above
COOKIE_SECRET = "conference-tests-cookie-secret"
STARTING = 300  # seconds a server may take to answer: the Redis tests start three at once on a busy machine
_databases = itertools.count()


@dataclass
class Live:
    """A running conference server and what `conference start` printed."""

    server: Server
    records_url: str
    output: str
    session: int
    token: str
    code: str
    join_url: str
    workdir: Path

    @property
    def base(self) -> str:
        return self.server.url.rstrip("/")

    def log_text(self) -> str:
        return self.server.log.read_text()

    def join(self, name: str, code: str | None = None, source: str = "127.0.0.1", cookie: str = "") -> tuple[int, dict]:
        """POST the join API as a page would (the _xsrf double-submit); (status, JSON body)."""
        body = json.dumps({"code": code or self.code, "name": name}).encode()
        cookies = "; ".join(c for c in ("_xsrf=t0k3n", cookie) if c)
        headers = {"Content-Type": "application/json", "X-XSRFToken": "t0k3n", "Cookie": cookies}
        return request(self.server.port, "POST", "/readingroom/conference/join", body, headers, source)

    def participant(self, name: str, receive_buffer: int | None = None) -> Client:
        status, joined = self.join(name)
        assert status == 200, joined
        path = f"/readingroom/conference/{joined['session']}/ws?ticket={joined['ticket']}"
        return Client(self, path, joined, receive_buffer)

    def presenter(self, session: int | None = None, token: str | None = None) -> Client:
        return Client(self, f"/readingroom/conference/{session or self.session}/ws?token={token or self.token}", {})

    def signed_in_cookie(self, participant_id: int) -> str:
        """The cookie the learning pages set on signing in (the test server's cookie secret is known)."""
        return "rr_user=" + create_signed_value(COOKIE_SECRET, "rr_user", str(participant_id)).decode()


class Client:
    """A websocket to the room; ``welcome`` is the first message it got."""

    def __init__(self, live: Live, path: str, joined: dict, receive_buffer: int | None = None) -> None:
        """``receive_buffer`` (bytes) stands in for a slow link: the kernel holds little for a late reader."""
        self.path, self.joined = path, joined
        sock = socket.socket()
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.connect(("127.0.0.1", live.server.port))
        self.socket: ClientConnection = connect(f"ws://127.0.0.1:{live.server.port}{path}", sock=sock, proxy=None,
                                                legacy=True)
        self.welcome = self.next()

    def send(self, message: dict) -> None:
        self.socket.send(json.dumps(message))

    def next(self, kind: str | None = None, timeout: float = 10) -> dict:
        """The next message (of ``kind``, skipping others)."""
        while True:
            message = json.loads(self.socket.recv(timeout=timeout))
            if kind is None or message["type"] == kind:
                return message

    def answer(self, poll: str, answer, key: str) -> dict:
        """Answer as the page does (with an idempotency key); the server's ``saved`` or ``unsaved`` reply."""
        self.send({"type": "answer", "poll": poll, "answer": answer, "key": key})
        while True:
            reply = self.next()
            if reply["type"] in ("saved", "unsaved") and reply["key"] == key:
                return reply

    def close(self) -> None:
        self.socket.close()


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
            source: str = "127.0.0.1") -> tuple[int, dict | str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode()
        kind = response.getheader("Content-Type", "")
        return response.status, json.loads(text) if kind.startswith("application/json") else text
    finally:
        connection.close()


def attendance_kinds(url: str, session: int, participant: int) -> list[str]:
    """The participant's attendance events in the store, in order (join, leave, reconnect)."""
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return list(db.scalars(select(AttendanceEventRow.kind).where(
                AttendanceEventRow.session_id == session, AttendanceEventRow.participant_id == participant,
            ).order_by(AttendanceEventRow.at, AttendanceEventRow.id)))
    finally:
        engine.dispose()


def stored_answer_keys(url: str, session: int) -> list[str]:
    """The idempotency keys of the session's poll answers in the store: one per answer acknowledged."""
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            return list(db.scalars(select(PollAnswerRow.idempotency_key).where(PollAnswerRow.session_id == session)))
    finally:
        engine.dispose()


def _write_module(folder: Path) -> None:
    """The sample module, its cases and questions cut down to the two cases copied."""
    module = yaml.safe_load((CASES.parent / "curriculum" / "first-look-emergency-reads.yaml").read_text())
    module["cases"] = [CASE, SECOND_CASE]
    for test in ("pre_test", "post_test"):
        module[test] = [q for q in module[test] if q.get("case") in module["cases"]]
    folder.mkdir(exist_ok=True)
    (folder / f"{MODULE}.yaml").write_text(yaml.safe_dump(module))


PUBLIC_URL = "https://rr.example.org"
PROXY = "127.0.0.5"  # the TLS proxy in front of live_postgres (--trusted-proxy)


def start_conference(workdir: Path, records_url: str, extra: tuple[str, ...] = (), command: tuple[str, ...] = ()) -> Live:
    """`readingroom conference start CASE --cases=<copies of the samples>` in ``workdir``, or another ``command``
    (e.g. ``("start", "cases/<slug>/")`` or ``("resume", "7", "--cases=cases")``)."""
    cases = workdir / "cases"
    for slug in (CASE, SECOND_CASE):
        shutil.copytree(CASES / slug, cases / slug, dirs_exist_ok=True)  # a restart reuses the folder
    _write_module(workdir / "curriculum")
    env = _server_env(workdir)
    port = free_port()
    server = Server([sys.executable, "-m", "readingroom", "conference", *(command or ("start", CASE, f"--cases={cases}")),
                     f"--port={port}", f"--records={records_url}", *extra],
                    env, workdir, workdir / "conference.log", port, "readingroom/catalog.json", timeout=STARTING)
    output = server.log.read_text()
    presenter = re.search(r"/readingroom/conference/(\d+)/present\?token=(\S+)", output)
    code = re.search(r"Join code: ([A-Z0-9]{6})", output).group(1)
    join_url = re.search(r"Join link: (\S+)", output).group(1)
    return Live(server, records_url, output, int(presenter.group(1)), presenter.group(2), code, join_url, workdir)


def _server_env(workdir: Path) -> dict:
    """An isolated Jupyter environment whose config sets the known cookie secret, and nothing of the machine's."""
    env = jupyter_env(workdir, workdir / "frame-cache", "conference")
    env.pop("JUPYTER_NO_CONFIG")
    Path(env["JUPYTER_CONFIG_DIR"], "voila.py").write_text(f"c.Voila.cookie_secret = {COOKIE_SECRET.encode()!r}\n")
    return env


def serve_beside(first: Live, workdir: Path, extra: tuple[str, ...] = ()) -> Live:
    """`readingroom serve` on ``first``'s cases and records store, as another process on the same machine
    behind the same address: a :class:`Live` for ``first``'s conference. Its frame cache is its own; its
    user data folder is ``first``'s, so it needs a journal of its own (``--journal``, in ``workdir``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = _server_env(workdir)
    env["XDG_DATA_HOME"] = jupyter_env(first.workdir, first.workdir / "frame-cache", "conference")["XDG_DATA_HOME"]
    server = Server([sys.executable, "-m", "readingroom", "serve", str(first.workdir / "cases"), f"--port={port}",
                     f"--records={first.records_url}", f"--curriculum={first.workdir / 'curriculum'}",
                     f"--journal={workdir / 'journal.sqlite'}", *extra],
                    env, workdir, workdir / "serve.log", port, "readingroom/catalog.json", timeout=STARTING)
    return Live(server, first.records_url, "", first.session, first.token, first.code, first.join_url, workdir)


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """`readingroom conference start` on SQLite, run from its own folder (where the QR code lands)."""
    workdir = tmp_path_factory.mktemp("conference-sqlite")
    conference = start_conference(workdir, f"sqlite:///{workdir / 'records.sqlite'}")
    yield conference
    conference.server.stop()


@pytest.fixture(scope="session")
def live_postgres(tmp_path_factory, postgres_server):  # noqa: F811
    import psycopg

    name = f"conference_{next(_databases)}"
    with psycopg.connect(postgres_server.replace("+psycopg", "") + "/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    # Started as behind a proxy: the links it prints and shows name the public address, and the
    # proxy's X-Forwarded-For and X-Forwarded-Proto are believed from its address only.
    conference = start_conference(tmp_path_factory.mktemp("conference-postgres"), f"{postgres_server}/{name}",
                                  extra=(f"--public-url={PUBLIC_URL}/", f"--trusted-proxy={PROXY}"))
    yield conference
    conference.server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_live(request) -> Live:
    return request.getfixturevalue("live" if request.param == "sqlite" else "live_postgres")

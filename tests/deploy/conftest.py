"""Several `readingroom serve` (or `conference start`) processes behind a real nginx, laid out as docs/deploy.md says.

One PostgreSQL database per layout (tests/postgres_fixtures.py), the shared secrets and frame
cache of docs/deploy/, and nginx from docs/deploy/nginx.conf in front (tests/nginx_fixtures.py).
"""

from __future__ import annotations

import itertools
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from readingroom.server.catalog import public_id
from tests.conference.conftest import CASE, CASES
from tests.nginx_fixtures import Nginx, case_run_done, serve_process, shared_secrets
from tests.redis_fixtures import Redis, redis_server  # noqa: F401  (a fixture)
from tests.servers import Server, free_port

CASE_ID = public_id(CASE)
_databases = itertools.count()


@dataclass
class Layout:
    """nginx on ``nginx.port`` in front of ``processes`` (by port), all on one records store."""

    folder: Path
    nginx: Nginx
    processes: dict[int, Server]
    records_url: str
    redis_url: str

    @property
    def ports(self) -> list[int]:
        return list(self.processes)

    def log_of(self, port: int) -> str:
        return self.processes[port].log.read_text()

    def restart(self, port: int) -> None:
        """`readingroom serve` on ``port`` again, as systemd's Restart=always would: the same journal folder."""
        self.processes[port] = serve_process(self.folder, port, self.records_url, self.redis_url, self.nginx.url)

    def stop(self) -> None:
        self.nginx.stop()
        for process in self.processes.values():
            process.stop()


def new_database(postgres_server: str) -> str:
    import psycopg

    name = f"deploy_{next(_databases)}"
    with psycopg.connect(postgres_server.replace("+psycopg", "") + "/postgres", autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


def start_layout(folder: Path, records_url: str, redis_url: str, count: int, command: list[str] | None = None) -> Layout:
    """``count`` processes of docs/deploy/readingroom@.service on the sample case, nginx in front.

    The first process makes the store's schema before the others start (they would race to make it).
    ``command``: the first process runs it instead of `serve` (e.g. `conference start CASE`).
    """
    shutil.copytree(CASES / CASE, folder / "cases" / CASE, dirs_exist_ok=True)
    shared_secrets(folder)
    http_port, port = free_port(), free_port()
    public = f"https://127.0.0.1:{port}"
    ports = [free_port() for _ in range(count)]
    processes = {ports[0]: serve_process(folder, ports[0], records_url, redis_url, public, command)}
    with ThreadPoolExecutor(max(1, count - 1)) as pool:
        rest = pool.map(lambda p: (p, serve_process(folder, p, records_url, redis_url, public)), ports[1:])
        processes.update(rest)
    for process in processes.values():  # every process runs the case once; reveals come from that run
        case_run_done(process, CASE_ID)
    return Layout(folder, Nginx(ports, http_port=http_port, port=port), processes, records_url, redis_url)


@pytest.fixture(scope="module")
def three_servers(tmp_path_factory, postgres_server, redis_server):  # noqa: F811
    """Three `readingroom serve` processes behind nginx."""
    layout = start_layout(tmp_path_factory.mktemp("deploy-three"), new_database(postgres_server), redis_server.url, 3)
    yield layout
    layout.stop()


@pytest.fixture(scope="session")
def conference_layout(tmp_path_factory, postgres_server):
    """`readingroom conference start` on the first process and `serve` on two more (the unit's options), behind
    nginx, with a Redis of their own: session numbers start at 1 in every database, and rooms are keyed by them."""
    folder, redis = tmp_path_factory.mktemp("deploy-conference"), Redis()
    layout = start_layout(folder, new_database(postgres_server), redis.url, 3,
                          command=["conference", "start", CASE, f"--cases={folder / 'cases'}"])
    yield layout
    layout.stop()
    redis.remove()


def printed(layout: Layout) -> dict:
    """What `conference start` printed on the first process: the public address, session, presenter token, code."""
    output = layout.log_of(layout.ports[0])
    presenter = re.search(r"(https://\S+)/readingroom/conference/(\d+)/present\?token=(\S+)", output)
    return {"public": presenter.group(1), "session": int(presenter.group(2)), "token": presenter.group(3),
            "code": re.search(r"Join code: ([A-Z0-9]{6})", output).group(1)}

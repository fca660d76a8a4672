"""A real `readingroom serve` over the sample module and its three cases, with two trainee accounts.

One server keeps records in SQLite (the isolated test default), one in a real PostgreSQL
(the server from tests/postgres_fixtures.py). Accounts are made in the same store the server uses.
"""

from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from readingroom.curriculum import load_module
from readingroom.records import RecordsStore
from tests.servers import Server, jupyter_env, free_port


ROOT = Path(__file__).resolve().parents[2]
MODULE_FILE = ROOT / "curriculum" / "first-look-emergency-reads.yaml"
SECOND_MODULE = "second-look"  # the same cases under another name: two modules a learner can have open at once
TRAINEE = {"display_name": "Dr Test Trainee", "username": "trainee", "password": "correct horse battery staple"}
OTHER = {"display_name": "Dr Other Trainee", "username": "other", "password": "another long passphrase"}
PROXY = "127.0.0.5"  # the TLS proxy in front of the PostgreSQL server (--trusted-proxy)
STUDIED_MINUTES = 45  # time on task from an earlier visit: a test cannot spend the real three quarter hours


def studied_earlier(records_url: str, module: str, person: dict) -> None:
    """Heartbeats a minute apart, ending an hour ago, as the module page sends them while open."""
    start = datetime.now(UTC) - timedelta(hours=1, minutes=STUDIED_MINUTES)
    with RecordsStore(records_url) as store:
        participant = store.authenticate(person["username"], person["password"])
        for minute in range(STUDIED_MINUTES + 1):
            store.record_heartbeat(participant.id, module, start + timedelta(minutes=minute))


@pytest.fixture(scope="session")
def sample_module():
    return load_module(MODULE_FILE)


@pytest.fixture(scope="session")
def learning_dir(tmp_path_factory, sample_module) -> Path:
    """cases/ with the module's cases, curriculum/ beside it (where serve looks by default)."""
    root = tmp_path_factory.mktemp("learning")
    for slug in sample_module.cases:
        shutil.copytree(ROOT / "cases" / slug, root / "cases" / slug)
    (root / "curriculum").mkdir()
    shutil.copy(MODULE_FILE, root / "curriculum" / MODULE_FILE.name)
    second = yaml.safe_load(MODULE_FILE.read_text())
    second["title"] = "A second look at the same reads"
    (root / "curriculum" / f"{SECOND_MODULE}.yaml").write_text(yaml.safe_dump(second))
    return root


def _serve(root: Path, workdir: Path, records_url: str | None, extra: tuple[str, ...] = ()) -> Server:
    env = jupyter_env(workdir, workdir / "frame-cache", "serve")
    url = records_url or env["READINGROOM_RECORDS"]
    with RecordsStore(url) as store:  # what `readingroom records add-user` does, without a second process start
        for person in (TRAINEE, OTHER):
            store.add_participant(person["display_name"], username=person["username"], password=person["password"])
    port = free_port()
    args = [sys.executable, "-m", "readingroom", "serve", str(root / "cases"), f"--port={port}", "--pool-size=0", *extra]
    server = Server(args + ([f"--records={records_url}"] if records_url else []), env, workdir, workdir / "serve.log",
                    port, "modules")
    server.records_url = url
    return server


@pytest.fixture(scope="session")
def learning_servers(learning_dir, tmp_path_factory, postgres_server):  # noqa: F811
    """Both servers, started side by side (each spends most of its start importing Jupyter)."""
    import psycopg

    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE learning_flow")
    stores = {"sqlite": None, "postgresql": f"{postgres_server}/learning_flow"}
    extra = {"sqlite": (), "postgresql": (f"--trusted-proxy={PROXY}",)}  # the deployment: behind a TLS proxy
    with ThreadPoolExecutor(len(stores)) as pool:
        starts = {kind: pool.submit(_serve, learning_dir, tmp_path_factory.mktemp(f"learning-{kind}"), url, extra[kind])
                  for kind, url in stores.items()}
        servers = {kind: start.result() for kind, start in starts.items()}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def learning_served(learning_servers):
    """`readingroom serve cases` as a coordinator starts it, records in the isolated SQLite file."""
    return learning_servers["sqlite"]


@pytest.fixture(scope="session")
def pg_served(learning_servers):
    """The same, with ``--records`` pointing at a fresh PostgreSQL database, behind a TLS proxy at PROXY."""
    return learning_servers["postgresql"]

"""A real `readingroom serve` over the sample module and its three cases, with one trainee account.

One server keeps records in SQLite (the isolated test default), one in a real PostgreSQL
(the server from tests/records/conftest.py). Accounts are made in the same store the server uses.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from readingroom.curriculum import load_module
from readingroom.records import RecordsStore
from tests.browser.conftest import Server, _jupyter_env, free_port
from tests.records.conftest import postgres_server  # noqa: F401 (a fixture pg_served uses)

ROOT = Path(__file__).resolve().parents[2]
MODULE_FILE = ROOT / "curriculum" / "first-look-emergency-reads.yaml"
TRAINEE = {"display_name": "Dr Test Trainee", "username": "trainee", "password": "correct horse battery staple"}


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
    return root


def _serve(root: Path, workdir: Path, records_url: str | None) -> Server:
    env = _jupyter_env(workdir, workdir / "frame-cache", "serve")
    url = records_url or env["READINGROOM_RECORDS"]
    with RecordsStore(url) as store:
        store.add_participant(TRAINEE["display_name"], licence_id="TEST-0001", username=TRAINEE["username"],
                              password=TRAINEE["password"])
    port = free_port()
    args = [sys.executable, "-m", "readingroom", "serve", str(root / "cases"), f"--port={port}", "--pool-size=0"]
    server = Server(args + ([f"--records={records_url}"] if records_url else []), env, workdir, workdir / "serve.log",
                    port, "modules")
    server.records_url = url
    return server


@pytest.fixture(scope="session")
def learning_served(learning_dir, tmp_path_factory):
    """`readingroom serve cases` as a coordinator starts it, records in the isolated SQLite file."""
    server = _serve(learning_dir, tmp_path_factory.mktemp("learning-run"), None)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_served(learning_dir, tmp_path_factory, postgres_server):  # noqa: F811
    """The same, with ``--records`` pointing at a fresh PostgreSQL database."""
    import psycopg

    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE learning_flow")
    server = _serve(learning_dir, tmp_path_factory.mktemp("learning-pg-run"), f"{postgres_server}/learning_flow")
    yield server
    server.stop()

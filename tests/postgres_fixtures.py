"""A real PostgreSQL for the tests about the records store, started once per run from Debian's server binaries.

Tests run as root and initdb refuses root, so the server runs as the ``postgres`` user,
with its data and socket in a temporary folder, on a free port of 127.0.0.1. Tests that use
it are marked ``postgres`` (tests/conftest.py); without Debian's postgresql they are skipped,
and fail under CI (tests/system_packages.py).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from readingroom.records import RecordsStore, sqlite_url
from tests.servers import free_port
from tests.system_packages import postgres_bin, require


def _as_postgres(*args: str) -> list[str]:
    return list(args) if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]


def _run(command: list[str]) -> None:
    """Run a server command; on failure show its own output, which names the cause."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


class Postgres:
    """One PostgreSQL server in a temporary folder on a free port; :meth:`stop` and :meth:`start` again keep its data."""

    def __init__(self) -> None:
        require("postgresql")
        self.bin_dir = postgres_bin()
        if os.geteuid() == 0:
            try:
                pg_user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("no `postgres` user to run the server as (initdb refuses root): Debian's postgresql "
                            "package makes it; reinstall it")
        self.root = Path(tempfile.mkdtemp(prefix="readingroom-pg-"))
        self.data, sockets = self.root / "data", self.root / "sockets"
        self.data.mkdir()
        sockets.mkdir()
        if os.geteuid() == 0:
            for path in (self.root, self.data, sockets):
                os.chown(path, pg_user.pw_uid, pg_user.pw_gid)
        self.port = free_port()
        _run(_as_postgres(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E",
                          "UTF8", "--no-sync"))
        self.options = f"-h 127.0.0.1 -p {self.port} -k {sockets} -c fsync=off"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
        self.start()

    def start(self) -> None:
        # -w waits until the server accepts connections, so no polling or sleeping here.
        _run(_as_postgres(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                          "-o", self.options, "-w", "start"))

    def stop(self) -> None:
        subprocess.run(_as_postgres(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"),
                       capture_output=True)

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(f"{self.url.replace('+psycopg', '')}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"{self.url}/{name}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running server; yields the admin URL (trust auth, local only)."""
    server = Postgres()
    try:
        yield server.url
    finally:
        server.remove()


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    """A server of the test's own, for a test that stops and starts it (the shared one must stay up)."""
    server = Postgres()
    try:
        yield server
    finally:
        server.remove()


_database_numbers = itertools.count()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RecordsStore]:
    """An empty store on a fresh SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "records.sqlite")
    else:
        import psycopg

        server = request.getfixturevalue("postgres_server")
        name = f"records_{next(_database_numbers)}"
        plain = server.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        url = f"{server}/{name}"
    with RecordsStore(url) as records:
        yield records

"""A real PostgreSQL for the tests about the records store, started once per run from Debian's server binaries.

Tests run as root and initdb refuses root, so the server runs as the ``postgres`` user,
with its data and socket in a temporary folder, on a free port of 127.0.0.1. Outside CI,
missing binaries skip the PostgreSQL params; under CI (env CI set) they fail the run.
"""

from __future__ import annotations

import glob
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


def _server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def _as_postgres(*args: str) -> list[str]:
    return list(args) if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--", *args]


def _run(command: list[str]) -> None:
    """Run a server command; on failure show its own output, which names the cause."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI (env CI set) must run the PostgreSQL tests, but: {reason}")
    pytest.skip(reason)


class Postgres:
    """One PostgreSQL server in a temporary folder on a free port; :meth:`stop` and :meth:`start` again keep its data."""

    def __init__(self) -> None:
        self.bin_dir = _server_bin()
        if self.bin_dir is None:
            _unavailable("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        if os.geteuid() == 0:
            try:
                pg_user = pwd.getpwnam("postgres")
            except KeyError:
                _unavailable("no `postgres` user to run the server as (initdb refuses root)")
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


@pytest.fixture(params=["sqlite", "postgresql"])
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

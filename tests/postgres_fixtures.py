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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running server; yields the admin URL (trust auth, local only)."""
    require("postgresql")
    bin_dir = postgres_bin()
    if os.geteuid() == 0:
        try:
            pg_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("no `postgres` user to run the server as (initdb refuses root): Debian's postgresql "
                        "package makes it; reinstall it")
    root = Path(tempfile.mkdtemp(prefix="readingroom-pg-"))
    data, sockets = root / "data", root / "sockets"
    data.mkdir()
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (root, data, sockets):
            os.chown(path, pg_user.pw_uid, pg_user.pw_gid)
    port = free_port()
    _run(_as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"))
    options = f"-h 127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    # -w waits until the server accepts connections, so no polling or sleeping here.
    _run(_as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w", "start"))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"), capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


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

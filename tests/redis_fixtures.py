"""A real Redis for the tests of conferences served by several processes, from Debian's redis-server.

Each server runs in a temporary folder on a free port of 127.0.0.1 with a generated
configuration: an append-only file, so a server stopped and started again keeps the rooms (as
a deployment's Redis should, docs/deploy.md), no password (loopback only). Tests that use it skip
without Debian's redis-server, and fail under CI (tests/system_packages.py).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, wait_for
from tests.system_packages import require


class Redis:
    """One redis-server on a free port; :meth:`stop` and :meth:`start` again (same port, same data)."""

    def __init__(self) -> None:
        require("redis")
        self.root = Path(tempfile.mkdtemp(prefix="readingroom-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.config = self.root / "redis.conf"
        self.config.write_text("\n".join([
            "bind 127.0.0.1", f"port {self.port}", f"dir {self.root}", 'save ""', "appendonly yes",
            "protected-mode yes", "daemonize no", f"logfile {self.root / 'redis.log'}",
        ]) + "\n")
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        wait_for(self._answers, f"redis-server on port {self.port}", timeout=30)

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited ({self.proc.returncode}):\n"
                               f"{(self.root / 'redis.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    """One Redis for the run (tests keep apart by the sessions they start); yields it (its ``url``)."""
    server = Redis()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def own_redis() -> Iterator[Redis]:
    """A Redis of the test's own, for a test that stops and starts it (the shared one must stay up)."""
    server = Redis()
    try:
        yield server
    finally:
        server.remove()

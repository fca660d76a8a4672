"""Real servers for tests: free loopback ports, a Jupyter environment kept apart from the
machine's own configuration, and a subprocess that is ready once it answers HTTP.

Every fixture that starts a server uses these, so no test binds a fixed port; ``held_ports``
takes readingroom's default ports away, as other programs on a busy machine do, to show that.
"""

from __future__ import annotations

import errno
import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

TOKEN = "readingroom-test-token"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing holds right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Ports readingroom and the servers its tests start listen on by default: `readingroom serve` and
# `conference start` (and Voila), Jupyter, a DICOM receiver, PostgreSQL, Redis, Orthanc (HTTP, DICOM),
# Janus (HTTP, websockets), JupyterHub (its public proxy, the proxy's API, the hub).
DEFAULT_PORTS = (8866, 8888, 11112, 5432, 6379, 8042, 4242, 8088, 8188, 8000, 8001, 8081)


@contextmanager
def held_ports(*ports: int) -> Iterator[list[int]]:
    """Listen on ``ports`` of 127.0.0.1 for the block, as a `make serve` left running would; yields those
    held here. A port something else holds already is just as taken, so it is left to its holder."""
    with ExitStack() as stack:
        held = []
        for port in ports:
            listener = stack.enter_context(socket.socket())
            try:
                listener.bind(("127.0.0.1", port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                continue
            listener.listen()
            held.append(port)
        yield held


def jupyter_env(workdir: Path, frame_cache: Path, name: str) -> dict:
    env = dict(os.environ)
    home = workdir / f"jupyter-{name}"
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("IPYTHONDIR", "ipython")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["JUPYTER_NO_CONFIG"] = "1"
    env["READINGROOM_CACHE"] = str(frame_cache)
    env["READINGROOM_RECORDS"] = f"sqlite:///{home / 'records.sqlite'}"  # never the user's own store
    env["XDG_DATA_HOME"] = str(home / "data")  # a records journal beside a PostgreSQL store lands here, not in ~
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.pop("READINGROOM_HANDLERS", None)  # a server started in this process must not vouch for this one
    return env


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120, headers: dict | None = None,
              context: ssl.SSLContext | None = None) -> None:
    """Wait until ``url`` answers 2xx (``headers`` for a server that wants credentials, ``context`` for https)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5, context=context):
                return
        except OSError:
            time.sleep(0.3)  # polling a server's port while it starts, not a test wait
    raise RuntimeError(f"server did not answer {url}:\n{log.read_text()[-3000:]}")


def fetch_from(source: str, port: int, method: str, path: str, body: bytes | None = None,
               headers: dict | None = None, context: ssl.SSLContext | None = None,
               ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request to 127.0.0.1:``port`` sent from the loopback address ``source`` (127.0.0.x), as a
    client (or a proxy) at that address would: (status, headers, body), redirects not followed;
    over https with ``context``."""
    connection = (http.client.HTTPSConnection("127.0.0.1", port, timeout=60, source_address=(source, 0), context=context)
                  if context else http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0)))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class Server:
    def __init__(self, args: list[str], env: dict, cwd: Path, log: Path, port: int, ready_path: str,
                 timeout: float = 120):
        """``timeout``: seconds to answer (longer where several servers start on a busy machine)."""
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        self.proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT)
        wait_http(self.url + ready_path, self.proc, log, timeout)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def jupyter_server(module: str, app_args: list[str], workdir: Path, notebook_dir: Path, frame_cache: Path,
                    name: str, log: str) -> Server:
    """`python -m <module>` (JupyterLab or Notebook 7) on the notebooks, token-protected, our server extension on."""
    port = free_port()
    return Server(
        [sys.executable, "-m", module, "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={TOKEN}", "--ServerApp.jpserver_extensions={'readingroom.server': True}",
         *app_args, "--allow-root", f"--ServerApp.root_dir={notebook_dir}"],
        jupyter_env(workdir, frame_cache, name), notebook_dir, workdir / log, port, f"api/status?token={TOKEN}")


LAB_ARGS = ["--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # offline


if __name__ == "__main__":  # .ci/run: `python3 tests/servers.py` holds the default ports while the suite runs
    with held_ports(*DEFAULT_PORTS) as taken:
        print(f"holding 127.0.0.1 ports {' '.join(map(str, taken)) or 'none (all taken already)'}", flush=True)
        signal.pause()  # until .ci/run ends it


def wait_for(condition, what: str, timeout: float = 15):
    """Poll ``condition`` until it returns something truthy: a server's work, not a test delay."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")

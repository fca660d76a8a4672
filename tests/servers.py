"""Real servers for tests: free loopback ports, a Jupyter environment kept apart from the
machine's own configuration, and a subprocess that is ready once it answers HTTP.

Every fixture that starts a server uses these, so no test binds a fixed port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TOKEN = "readingroom-test-token"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing holds right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120, headers: dict | None = None) -> None:
    """Wait until ``url`` answers 2xx (``headers`` for a server that wants credentials)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5):
                return
        except OSError:
            time.sleep(0.3)  # polling a server's port while it starts, not a test wait
    raise RuntimeError(f"server did not answer {url}:\n{log.read_text()[-3000:]}")


class Server:
    def __init__(self, args: list[str], env: dict, cwd: Path, log: Path, port: int, ready_path: str):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.log = log
        self.proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log.open("w"), stderr=subprocess.STDOUT)
        wait_http(self.url + ready_path, self.proc, log)

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

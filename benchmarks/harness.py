"""What every benchmark script needs to run real servers and Debian's Chromium, and nothing of the user's.

Benchmarks do not import the tests (they are run on their own, with the bench extra);
this is their one copy of the plumbing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

README = Path(__file__).resolve().parent / "README.md"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 # a page in a background tab of a real laptop is not throttled either
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(work: Path) -> dict:
    """Records, Jupyter folders and frame cache inside `work`: nothing of the user's is read or written."""
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("IPYTHONDIR", "ipython")):
        (work / "jupyter" / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(work / "jupyter" / sub)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["JUPYTER_NO_CONFIG"] = "1"
    env.setdefault("READINGROOM_CACHE", str(work / "frames"))
    env["READINGROOM_RECORDS"] = f"sqlite:///{work / 'records.sqlite'}"
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Until `url` answers; a server that exits or never answers ends the benchmark with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers (the readiness path may need a cookie or a POST)
        except OSError:
            time.sleep(0.3)  # polling the port while the server starts
    raise SystemExit(f"server did not answer {url}:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


def children(server: psutil.Process, marker: str) -> list[psutil.Process]:
    """The processes a server started whose command line holds ``marker`` (one that ends meanwhile is left out)."""
    found = []
    for child in server.children(recursive=True):
        try:
            if marker in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            pass
    return found


def kernels(server: psutil.Process) -> list[psutil.Process]:
    """The ipykernel processes a server started (a page's, or preheated ones)."""
    return children(server, "ipykernel")


class Server:
    """A server process on a free port of 127.0.0.1, started with `args + [f"--port={port}"]`, ready at `ready_path`."""

    def __init__(self, args: list[str], env: dict, cwd: Path, log: Path, ready_path: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        self.proc = subprocess.Popen([*args, f"--port={self.port}"], env=env, cwd=cwd, stdout=log.open("w"),
                                     stderr=subprocess.STDOUT)
        wait_http(self.url + ready_path, self.proc, log)

    def kernels(self) -> list[psutil.Process]:
        return kernels(psutil.Process(self.proc.pid))

    def stop(self) -> None:
        stop(self.proc)


class Orthanc:
    """Debian's Orthanc with its DICOMweb plugin on two free ports, no authentication (loopback only),
    C-GET open to every calling AE: a PACS to import from."""

    AET = "ORTHANC"

    def __init__(self, work: Path) -> None:
        import json

        self.http_port, self.dicom_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        config = work / "orthanc.json"
        config.write_text(json.dumps({
            "Name": "readingroom-bench", "StorageDirectory": str(work / "orthanc"), "IndexDirectory": str(work / "orthanc"),
            "HttpPort": self.http_port, "DicomPort": self.dicom_port, "DicomAet": self.AET, "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "DicomAlwaysAllowGet": True, "DicomAlwaysAllowFind": True,
            "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        }))
        self.log = work / "orthanc.log"
        self.proc = subprocess.Popen(["/usr/sbin/Orthanc", str(config)], stdout=self.log.open("w"),
                                     stderr=subprocess.STDOUT, cwd=work)
        wait_http(f"{self.url}/system", self.proc, self.log)

    def upload(self, paths: list[Path]) -> None:
        for path in paths:
            request = urllib.request.Request(f"{self.url}/instances", data=path.read_bytes(), method="POST")
            with urllib.request.urlopen(request, timeout=60):
                pass

    def stop(self) -> None:
        stop(self.proc)


def write_figures(block: str, begin: str, end: str, section: str) -> None:
    """Put ``block`` (``begin`` ... ``end`` markers included) into benchmarks/README.md: over the figures
    between those markers, else under the ``section`` heading, else as that section at the end."""
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    elif section in text:
        head = text.index(section) + len(section)
        text = text[:head] + f"\n\n{block}\n\n" + text[head:].lstrip("\n")
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n\n{block}\n"
    README.write_text(text)


class Postgres:
    """Debian's PostgreSQL in a temporary folder on a free port (trust, loopback only), run as `postgres` when root."""

    def __init__(self, work: Path) -> None:
        import glob
        import pwd

        bin_dir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))[-1]).parent
        self.data, self.port = work / "postgres", free_port()
        self.data.mkdir(parents=True)
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            for path in (work, self.data):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._ctl = [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(self.data)]
        subprocess.run([*as_postgres, str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                        "--no-sync"], check=True, capture_output=True)
        subprocess.run([*self._ctl, "-l", str(work / "postgres.log"), "-o",
                        f"-h 127.0.0.1 -p {self.port} -k {self.data} -c fsync=off -c max_connections=300", "-w", "start"],
                       check=True, capture_output=True)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run([*self._ctl, "-m", "fast", "-w", "stop"], capture_output=True)


class Redis:
    """Debian's redis-server on a free port of 127.0.0.1, nothing written to disk."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = work / "redis.log"
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)  # polling the port while it starts
        raise SystemExit(f"redis-server did not answer:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        stop(self.proc)


class Nginx:
    """nginx from docs/deploy/nginx.conf (TLS, a self-signed certificate) in front of ``upstream_ports``.

    The configuration is rendered by tests/nginx_fixtures.py, the one place that knows which ports and
    paths of the shipped file to change, so the benchmark measures the layout the tests check.
    Clients trust the certificate through SSL_CERT_FILE (set by :meth:`trust`).
    """

    def __init__(self, work: Path, upstream_ports: list[int], port: int) -> None:
        sys.path.insert(0, str(README.parents[1]))
        from tests.nginx_fixtures import nginx_folder

        self.folder, self.port = work / "nginx", port
        config, self.certificate = nginx_folder(self.folder, free_port(), port, upstream_ports)
        self.log = self.folder / "nginx.log"
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-p", str(self.folder), "-c", str(config), "-g", "daemon off;"],
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.url = f"https://127.0.0.1:{port}/"

    def trust(self) -> None:
        """This process and those it starts trust the test certificate (default SSL contexts read SSL_CERT_FILE)."""
        os.environ["SSL_CERT_FILE"] = str(self.certificate)

    def stop(self) -> None:
        stop(self.proc)

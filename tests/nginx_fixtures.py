"""A real nginx in front of several real `readingroom serve` processes, started from the files docs/deploy/ ships.

The configuration is docs/deploy/nginx.conf and each process's command line and environment are
the ``Environment=`` and ``ExecStart=`` lines of docs/deploy/readingroom@.service, with the shared
secrets of docs/deploy/voila.py: only ports and paths are changed (:data:`NGINX_PATHS` and
:func:`unit_command` name every change), so a layout the guide shows is the layout tested. A
string the substitution expects and no longer finds fails at once, naming it.

nginx (Debian's nginx-light) runs in the foreground as a child of the test, with its pid, logs
and temporary folders in a folder of its own, TLS on a free loopback port with a self-signed
certificate made for 127.0.0.1. Its access log names the process (``upstream=``) that served each
request and the route cookie it was hashed by, which is how tests see where a browser went.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

from readingroom.server.case_pages import RUN_TIMEOUT
from tests.servers import Server, fetch_from, free_port, jupyter_env, wait_for, wait_http

DEPLOY = Path(__file__).resolve().parents[1] / "docs" / "deploy"
NGINX = "/usr/sbin/nginx"
ROUTE_COOKIE = "rr_route"
WORKER_USER = "www-data"  # the config's `user`: when the tests run as root, nginx's workers run as this user

# Paths of docs/deploy/nginx.conf and what each becomes under the fixture's folder.
NGINX_PATHS = {
    "/run/nginx-readingroom.pid": "nginx.pid",
    "/var/log/nginx/readingroom-error.log": "error.log",
    "/var/log/nginx/readingroom-access.log": "access.log",
    "/var/lib/nginx/body": "temp/body",
    "/var/lib/nginx/proxy": "temp/proxy",
    "/var/lib/nginx/fastcgi": "temp/fastcgi",
    "/var/lib/nginx/uwsgi": "temp/uwsgi",
    "/var/lib/nginx/scgi": "temp/scgi",
    "/etc/letsencrypt/live/rr.hospital.org/fullchain.pem": "tls/cert.pem",
    "/etc/letsencrypt/live/rr.hospital.org/privkey.pem": "tls/key.pem",
}
UPSTREAM_SERVERS = re.compile(r"^([ \t]*)server 127\.0\.0\.1:\d+([^;\n]*);\n(?:[ \t]*server 127\.0\.0\.1:[^\n]*\n)*", re.M)


def _replace(text: str, old: str, new: str, source: Path) -> str:
    if old not in text:
        raise AssertionError(f"{source} no longer holds {old!r}: tests/nginx_fixtures.py changes it; update one of them")
    return text.replace(old, new)


def nginx_config(folder: Path, http_port: int, https_port: int, upstream_ports: list[int]) -> str:
    """docs/deploy/nginx.conf with this fixture's ports, paths and processes (nothing else changed)."""
    source = DEPLOY / "nginx.conf"
    text = source.read_text()
    for old, new in NGINX_PATHS.items():
        text = _replace(text, old, str(folder / new), source)
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};", source)
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", source)
    found = UPSTREAM_SERVERS.search(text)
    if found is None:
        raise AssertionError(f"{source}: no `server 127.0.0.1:PORT ...;` lines in `upstream readingroom`")
    indent, parameters = found.groups()
    servers = "".join(f"{indent}server 127.0.0.1:{port}{parameters};\n" for port in upstream_ports)
    return text[:found.start()] + servers + text[found.end():]


def self_signed_certificate(folder: Path) -> Path:
    """A certificate (and key) for 127.0.0.1 with openssl; returns the certificate, which clients trust."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                           "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
                           "-out", str(folder / "cert.pem")], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"openssl could not make a test certificate:\n{done.stderr}")
    return folder / "cert.pem"


def nginx_folder(folder: Path, http_port: int, https_port: int, upstream_ports: list[int]) -> tuple[Path, Path]:
    """Everything nginx needs in ``folder``: its configuration, a certificate, temporary folders its workers
    may write; returns (configuration, certificate)."""
    certificate = self_signed_certificate(folder / "tls")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "temp" / sub).mkdir(parents=True)
    if os.geteuid() == 0:  # workers run as the config's user: they write the temporary files
        worker = pwd.getpwnam(WORKER_USER)
        os.chmod(folder, 0o755)
        for path in [folder / "temp", *(folder / "temp").iterdir()]:
            os.chown(path, worker.pw_uid, worker.pw_gid)
    config = folder / "nginx.conf"
    config.write_text(nginx_config(folder, http_port, https_port, upstream_ports))
    return config, certificate


class Nginx:
    """nginx from docs/deploy/nginx.conf on two free ports (http redirecting, https serving), in front of ``upstream_ports``."""

    def __init__(self, upstream_ports: list[int], http_port: int | None = None, port: int | None = None) -> None:
        """``port`` (https) and ``http_port`` may be chosen ahead: the processes behind are told the public address."""
        from tests.system_packages import require  # here: benchmarks use this module without pytest

        require("nginx")
        self.folder = Path(tempfile.mkdtemp(prefix="readingroom-nginx-"))
        self.http_port, self.port = http_port or free_port(), port or free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.config, self.certificate = nginx_folder(self.folder, self.http_port, self.port, upstream_ports)
        self.access_log = self.folder / "access.log"
        self.log = self.folder / "nginx.log"
        self.context = ssl.create_default_context(cafile=str(self.certificate))
        self.proc = subprocess.Popen([NGINX, "-p", str(self.folder), "-c", str(self.config), "-g", "daemon off;"],
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        wait_http(f"{self.url}/readingroom/catalog.json", self.proc, self.log, context=self.context)  # through to a process

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                route: str | None = None, source: str = "127.0.0.1") -> tuple[int, dict, bytes]:
        """One https request from the loopback address ``source``, as a browser holding route cookie ``route`` would;
        with a route, it returns once nginx has logged the request (it logs after answering)."""
        headers = dict(headers or {})
        if not route:
            return fetch_from(source, self.port, method, path, body, headers, context=self.context)
        headers["Cookie"] = "; ".join(c for c in (headers.get("Cookie"), f"{ROUTE_COOKIE}={route}") if c)
        logged = len(self.served_by(route))
        answer = fetch_from(source, self.port, method, path, body, headers, context=self.context)
        wait_for(lambda: len(self.served_by(route)) > logged, f"nginx to log {method} {path}")
        return answer

    def served_by(self, route: str) -> list[int]:
        """The ports of the processes that served the requests made with ``route``, in order (after a
        process that failed, nginx logs it and then the one that answered: the last counts)."""
        found = re.findall(rf"upstream=(?:\S+, )*127\.0\.0\.1:(\d+) route={route}$", self.access_log.read_text(), re.M)
        return [int(port) for port in found]

    def route_to(self, port: int) -> str:
        """A route cookie that nginx hashes to the process on ``port`` (found by asking, as a browser would)."""
        def landed() -> str | None:
            route = secrets.token_hex(16)
            self.request("GET", "/readingroom/catalog.json", route=route)
            return route if self.served_by(route)[-1:] == [port] else None

        return wait_for(landed, f"a route cookie hashed to 127.0.0.1:{port}", timeout=60)

    def websocket(self, path: str, route: str | None = None, source: str = "127.0.0.1") -> ClientConnection:
        """A websocket through nginx (wss), with the route cookie ``route``."""
        import socket

        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30, source_address=(source, 0))
        headers = {"Cookie": f"{ROUTE_COOKIE}={route}"} if route else {}
        return connect(f"wss://127.0.0.1:{self.port}{path}", sock=sock, ssl=self.context,
                       server_hostname="127.0.0.1", additional_headers=headers, proxy=None, legacy=True)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------- the processes behind it

UNIT = DEPLOY / "readingroom@.service"
UNIT_PATHS = ("/etc/readingroom", "/var/cache/readingroom/frames", "/var/lib/readingroom/%i", "/srv/readingroom/cases")


def unit_command(folder: Path, port: int, records_url: str, redis_url: str,
                 public_url: str) -> tuple[list[str], dict[str, str]]:
    """(ExecStart, Environment) of docs/deploy/readingroom@.service for the process on ``port``.

    Changed, and nothing else: the unit's paths to folders under ``folder`` (``etc``, ``frames``,
    ``state-<port>``, ``cases``), the program to this Python's ``-m readingroom``, the records and Redis
    URLs, the public address, and the instance (``%i``) to ``port``.
    """
    text = UNIT.read_text()
    for path in UNIT_PATHS:
        text = _replace(text, path, str(folder / _unit_folder(path)), UNIT)
    text = _replace(text, "/opt/readingroom/.venv/bin/readingroom", f"{sys.executable} -m readingroom", UNIT)
    text = _replace(text, "--records=postgresql+psycopg://readingroom@db.hospital.org/readingroom",
                    f"--records={records_url}", UNIT)
    text = _replace(text, "--redis=redis://127.0.0.1:6379/0", f"--redis={redis_url}", UNIT)
    text = _replace(text, "--public-url=https://rr.hospital.org", f"--public-url={public_url}", UNIT)
    text = text.replace("%i", str(port))
    environment = dict(line.removeprefix("Environment=").split("=", 1) for line in text.splitlines()
                       if line.startswith("Environment="))
    command = next(line.removeprefix("ExecStart=") for line in text.splitlines() if line.startswith("ExecStart="))
    return shlex.split(command), environment


def _unit_folder(path: str) -> str:
    return {"/etc/readingroom": "etc", "/var/cache/readingroom/frames": "frames", "/var/lib/readingroom/%i": "state-%i",
            "/srv/readingroom/cases": "cases"}[path]


def shared_secrets(folder: Path) -> Path:
    """docs/deploy/voila.py in ``folder``/etc (the processes' JUPYTER_CONFIG_DIR), secrets made as it says."""
    etc = folder / "etc"
    (etc / "secrets").mkdir(parents=True, exist_ok=True)
    shutil.copy(DEPLOY / "voila.py", etc / "voila.py")
    for name in ("cookie_secret", "reveal_secret"):
        (etc / "secrets" / name).write_text(secrets.token_urlsafe(32) + "\n")
    return etc / "secrets"


def serve_process(folder: Path, port: int, records_url: str, redis_url: str, public_url: str,
                  command: list[str] | None = None) -> Server:
    """One process of the unit on ``port``: `readingroom serve`, or ``command`` (e.g. `conference start ...`)
    run with the unit's options; its log is ``folder``/process-<port>.log."""
    argv, environment = unit_command(folder, port, records_url, redis_url, public_url)
    if command is not None:  # the unit's options after another command: `conference start CASE --cases=...`
        options = [a for a in argv[argv.index("serve") + 2:] if a.startswith("--")]
        argv = [*argv[:argv.index("serve")], *command, *options]
    env = jupyter_env(folder, Path(environment["READINGROOM_CACHE"]), f"process-{port}")
    env.pop("JUPYTER_NO_CONFIG")  # read the unit's JUPYTER_CONFIG_DIR: the shared secrets
    env.update(environment, READINGROOM_SECRETS=str(folder / "etc" / "secrets"))
    Path(environment["XDG_DATA_HOME"]).mkdir(parents=True, exist_ok=True)
    return Server(argv, env, folder, folder / f"process-{port}.log", port, "readingroom/catalog.json")


def case_run_done(server: Server, case_id: str) -> None:
    """Wait until the process has run the case (its page answers): what a reveal brings comes from that run."""
    urllib.request.urlopen(f"{server.url}cases/{case_id}/", timeout=RUN_TIMEOUT).close()

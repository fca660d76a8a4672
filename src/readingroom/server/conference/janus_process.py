"""A Janus media server as a child process: its configuration generated into a folder of its own.

Only what voice needs is loaded (the AudioBridge plugin and the HTTP transport), so a
Janus started here opens no other door. Its HTTP API listens on 127.0.0.1 only, whatever
address the web server is bound to: browsers never talk to it, the serving app does
(:mod:`.janus_api`), and it carries an API secret. Media (ICE) use the interfaces or addresses
``--voice-interface`` names (:func:`media_interfaces` checks them); without it, this machine's own main
address when the web server serves loopback only (see :func:`own_address`), every interface otherwise.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from readingroom.errors import InputError

JANUS = "janus"
LIBRARIES = Path("/usr/lib/x86_64-linux-gnu/janus")  # Debian's package
START_TIMEOUT = 20.0  # seconds until its HTTP API must answer
STOP_TIMEOUT = 10.0


def loopback(ip: str) -> bool:
    return ip in ("127.0.0.1", "localhost", "::1")


def own_address() -> str:
    """This machine's main IPv4 address (the one its default route leaves from); no packet is sent to find it.

    Janus never gathers ICE candidates on a loopback interface (its ice.c skips IFF_LOOPBACK), so a
    conference served on 127.0.0.1 has Janus's media on this address instead: Linux delivers
    traffic to its own addresses through the loopback device, so none of it leaves the machine.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: connect() on UDP only picks a route
            return probe.getsockname()[0]
        except OSError:
            return ""


def media_interfaces(value: str) -> str:
    """``value`` (interface names or addresses, comma-separated, as Janus's ice_enforce_list takes them) checked
    against this machine's interfaces; one line on a mistake, before Janus starts and gathers nothing."""
    import psutil

    addresses = psutil.net_if_addrs()
    stats = psutil.net_if_stats()
    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        owner = name if name in addresses else next(
            (nic for nic, found in addresses.items() if any(a.address.split("%")[0] == name for a in found)), None)
        example = ", ".join(sorted(nic for nic in addresses if nic != "lo")) or "none but lo"
        if owner is None:
            raise InputError(f"--voice-interface {name}: this machine has no such interface or address "
                             f"(its interfaces: {example})")
        if owner == "lo" or not stats[owner].isup:
            raise InputError(f"--voice-interface {name}: Janus gathers media only on interfaces that are up and not "
                             f"loopback (try one of: {example})")
    return ",".join(names)


def free_local_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _others(folder: Path, keep: str) -> str:
    """The file names of every module in ``folder`` but ``keep``: what Janus's ``disable`` lists take."""
    return ",".join(sorted(p.name for p in folder.glob("*.so") if p.name != keep))


@dataclass
class JanusConfig:
    """What the generated configuration says; :meth:`write` puts it into a folder."""

    http_port: int
    api_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    admin_key: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    ice_interfaces: str = ""  # Janus's ice_enforce_list: interfaces or addresses for media; "": every interface
    rtp_ports: str = "20000-40000"
    libraries: Path = LIBRARIES

    def write(self, folder: Path) -> Path:
        """janus.jcfg and the two modules' files in ``folder``; returns the main file."""
        general = {
            "configs_folder": str(folder), "plugins_folder": str(self.libraries / "plugins"),
            "transports_folder": str(self.libraries / "transports"), "events_folder": str(self.libraries / "events"),
            "loggers_folder": str(self.libraries / "loggers"), "debug_level": 4, "debug_timestamps": True,
            "admin_secret": secrets.token_urlsafe(24), "server_name": "readingroom-voice", "session_timeout": 60,
            **({"api_secret": self.api_secret} if self.api_secret else {}),
        }
        nat = {"nice_debug": False, "ignore_mdns": False}
        if self.ice_interfaces:
            nat["ice_enforce_list"] = self.ice_interfaces
        main = {
            "general": general, "certificates": {}, "media": {"rtp_port_range": self.rtp_ports}, "nat": nat,
            "plugins": {"disable": _others(self.libraries / "plugins", "libjanus_audiobridge.so")},
            "transports": {"disable": _others(self.libraries / "transports", "libjanus_http.so")},
            "loggers": {"disable": _others(self.libraries / "loggers", "")},
            "events": {"broadcast": False},
        }
        http = {
            "general": {"json": "plain", "base_path": "/janus", "http": True, "port": self.http_port,
                        "ip": "127.0.0.1", "https": False},
            "admin": {"admin_http": False, "admin_https": False},
        }
        bridge = {"general": {"lock_rtp_forward": True, "lock_play_file": True, "events": False,
                              **({"admin_key": self.admin_key} if self.admin_key else {})}}
        (folder / "janus.transport.http.jcfg").write_text(_jcfg(http))
        (folder / "janus.plugin.audiobridge.jcfg").write_text(_jcfg(bridge))
        path = folder / "janus.jcfg"
        path.write_text(_jcfg(main))
        return path


def _jcfg(sections: dict) -> str:
    """libconfig text: ``name: { key = value }``; JSON's quoting of strings is libconfig's."""
    lines = []
    for name, items in sections.items():
        lines.append(f"{name}: {{")
        lines += [f"\t{key} = {json.dumps(value)}" for key, value in items.items()]
        lines.append("}")
    return "\n".join(lines) + "\n"


def _stop_with_parent() -> list[str]:
    """A prefix that has Linux send Janus SIGTERM when the serving process dies, even by kill -9 (no orphan
    Janus holding ports); util-linux's setpriv sets it and execs Janus (no preexec_fn in a threaded process)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


class JanusProcess:
    """Janus started with a generated configuration; ``url`` is its HTTP API once :meth:`start` returns."""

    def __init__(self, ice_interfaces: str = "", log_path: Path | None = None, rtp_ports: str = "20000-40000",
                 http_port: int | None = None, secured: bool = True) -> None:
        """``secured``: an API secret and an AudioBridge admin key (off only to stand in for someone else's Janus)."""
        program = shutil.which(JANUS)
        if program is None:
            raise InputError("voice needs the Janus media server: apt-get install janus (or start with --no-voice, "
                             "or give a running one with --janus-url)")
        self.program = program
        self.folder = Path(tempfile.mkdtemp(prefix="readingroom-janus-"))
        self.config = JanusConfig(http_port or free_local_port(), ice_interfaces=ice_interfaces, rtp_ports=rtp_ports)
        if not secured:
            self.config.api_secret = self.config.admin_key = ""
        self.log_path = log_path or self.folder / "janus.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.http_port}/janus"

    def start(self) -> JanusProcess:
        main = self.config.write(self.folder)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([*_stop_with_parent(), self.program, "-C", str(main), "-F", str(self.folder),
                                          "-o"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise InputError(f"Janus stopped at start-up (exit {self.proc.returncode}); its log: {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/info", timeout=2) as answer:
                    if json.load(answer).get("janus") == "server_info":
                        return
            except OSError:
                time.sleep(0.2)  # polling its port while it starts
        self.stop()
        raise InputError(f"Janus did not answer on {self.url} within {START_TIMEOUT:.0f} s; its log: {self.log_path}")

    def stop(self) -> None:
        """SIGINT first: Janus then closes its rooms, so a recording's WAV header gets its final sizes."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for generated in self.folder.glob("*.jcfg"):  # they hold its secrets; its log stays for whoever wants it
            generated.unlink()

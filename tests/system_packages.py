"""The Debian packages (listed in .ci/debian-packages) and other programs some tests need, and the one rule for their absence.

`make test` installs them when it runs as root where apt-get exists. Anywhere else a test
that needs a missing one is skipped with the reason "needs <what> (apt-get install <package>)", or
how else to install it (JupyterHub from the test extra, its proxy from npm),
and the end of the run counts those skips per package; under CI (env CI set), which
installs everything, a missing package fails the test instead.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# JupyterHub's proxy, from the npm registry (package.json; `make test` runs npm ci).
CONFIGURABLE_HTTP_PROXY = Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "configurable-http-proxy"
SKIP_PREFIX = "needs "


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server's bin folder (Debian keeps each major version apart)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def _tesseract() -> bool:
    from readingroom.deid.ocr import ocr_available

    return ocr_available()


def _jupyterhub() -> bool:
    import importlib.util

    return importlib.util.find_spec("jupyterhub") is not None


@dataclass(frozen=True)
class Need:
    what: str
    packages: str  # as apt-get takes them
    present: Callable[[], bool]
    install: str = ""  # how to install it, where apt-get is not the way

    @property
    def how(self) -> str:
        return self.install or f"apt-get install {self.packages}"

    @property
    def reason(self) -> str:
        return f"{SKIP_PREFIX}{self.what} ({self.how})"

    @property
    def advice(self) -> str:
        """How to get it, for the end of the run."""
        return f"`{self.install}`" if self.install else f"`sudo {self.how}` or run `make test` as root"


NEEDS = {
    "chromium": Need("Chromium", "chromium", lambda: Path(CHROMIUM).exists()),
    "postgresql": Need("the PostgreSQL server", "postgresql", lambda: postgres_bin() is not None),
    "tesseract": Need("Tesseract OCR", "tesseract-ocr tesseract-ocr-eng", _tesseract),
    "dicom3tools": Need("dciodvfy", "dicom3tools", lambda: shutil.which("dciodvfy") is not None),
    "jupyterhub": Need("JupyterHub", "", _jupyterhub, install="pip install -e '.[test]'"),
    "node": Need("configurable-http-proxy (Node.js)", "", lambda: bool(shutil.which("node"))
                 and CONFIGURABLE_HTTP_PROXY.exists(), install="make node-tools"),
    "janus": Need("the Janus media server", "janus", lambda: shutil.which("janus") is not None),
    # loopback_media (tests/janus_fixtures.py) makes a veth for 127.0.0.2, where Janus offers media: root's work
    "iproute2": Need("ip (iproute2), run as root", "iproute2",
                     lambda: shutil.which("ip") is not None and os.geteuid() == 0),
    "redis": Need("the Redis server", "redis-server", lambda: shutil.which("redis-server") is not None),
    "nginx": Need("nginx and openssl", "nginx-light openssl",
                  lambda: Path("/usr/sbin/nginx").exists() and shutil.which("openssl") is not None),
}


def require(name: str) -> None:
    """Go on if the package ``name`` (a key of NEEDS) is installed; skip, or under CI fail, otherwise."""
    need = NEEDS[name]
    if need.present():
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run every test, but this one {need.reason}: .ci/run installs it")
    pytest.skip(need.reason)


def skipped_for_packages(skipped_reports: list) -> Counter:
    """How many tests each missing package's absence skipped, from the run's skipped reports."""
    reasons = {need.reason: need for need in NEEDS.values()}
    counts: Counter = Counter()
    for report in skipped_reports:
        reason = report.longrepr[2].removeprefix("Skipped: ") if isinstance(report.longrepr, tuple) else ""
        if reason in reasons:
            counts[reasons[reason]] += 1
    return counts

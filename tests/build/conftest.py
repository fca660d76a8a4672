"""The sample cases and modules built once per session, served by `python -m http.server` under a path prefix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import Server, free_port, jupyter_env

REPO = Path(__file__).resolve().parents[2]
PREFIX = "teaching/site/"  # the site is not at the server's root: every link must be relative


def run_build(workdir: Path, *args: str, cases: Path = REPO / "cases") -> subprocess.CompletedProcess:
    """`readingroom build` as a user runs it, with the session's own frame cache and Jupyter folders."""
    env = jupyter_env(workdir, workdir / "frame-cache", "build")
    return subprocess.run([sys.executable, "-m", "readingroom", "build", "--cases", str(cases), *args],
                          check=False, env=env, cwd=workdir, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def site(build_dir) -> Path:
    """Every sample case and module, built into <build_dir>/www/teaching/site."""
    output = build_dir / "www" / PREFIX
    done = run_build(build_dir, "-o", str(output))
    assert done.returncode == 0, done.stderr
    return output


@pytest.fixture(scope="session")
def static_server(site, build_dir):
    """Python's own static file server, nothing of ours: the site must work from any static host."""
    port = free_port()
    www = build_dir / "www"
    server = Server([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(www)],
                    {"PATH": "/usr/bin:/bin"}, www, build_dir / "http.log", port, PREFIX)
    server.site = server.url + PREFIX
    yield server
    server.stop()


@pytest.fixture
def cases_copy(tmp_path) -> Path:
    """Two sample cases in a folder of their own, safe to change."""
    root = tmp_path / "cases"
    for slug in ("chronic-subdural-haematoma-with-mass-effect", "lymph-node-with-hilar-vascularity"):
        shutil.copytree(REPO / "cases" / slug, root / slug)
    return root

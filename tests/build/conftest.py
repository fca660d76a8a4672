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


MODULE = "normal-first"
TRAINEE = {"display_name": "Dr Night Shift", "username": "nightshift", "password": "a long night shift passphrase"}


@pytest.fixture(scope="session")
def module_dir(tmp_path_factory) -> Path:
    """cases/ with the normal-first module's four cases, curriculum/ beside it holding that module only."""
    import yaml

    root = tmp_path_factory.mktemp("module")
    for slug in yaml.safe_load((REPO / "curriculum" / f"{MODULE}.yaml").read_text())["cases"]:
        shutil.copytree(REPO / "cases" / slug, root / "cases" / slug)
    (root / "curriculum").mkdir()
    shutil.copy(REPO / "curriculum" / f"{MODULE}.yaml", root / "curriculum")
    return root


@pytest.fixture(scope="session")
def site_port() -> int:
    """The static site's port, known before the readingroom server starts (it allows that origin only)."""
    return free_port()


@pytest.fixture(scope="session")
def served(module_dir, build_dir, site_port):
    """`readingroom serve` over the module with a trainee account; static sites at ``site_port`` may send records."""
    from readingroom.records import RecordsStore

    workdir = build_dir / "serve"
    workdir.mkdir()
    env = jupyter_env(workdir, build_dir / "frame-cache", "serve")  # the frames the builds encoded
    with RecordsStore(env["READINGROOM_RECORDS"]) as store:
        store.add_participant(**TRAINEE)
    port = free_port()
    server = Server([sys.executable, "-m", "readingroom", "serve", str(module_dir / "cases"), f"--port={port}",
                     "--pool-size=0", f"--site-origin=http://127.0.0.1:{site_port}"],
                    env, workdir, workdir / "serve.log", port, "signin")
    server.records_url = env["READINGROOM_RECORDS"]
    yield server
    server.stop()


@pytest.fixture(scope="session")
def linked_site(module_dir, build_dir, served, site_port):
    """The module built with ``--server`` pointing at ``served``, on Python's static server at ``site_port``."""
    www = build_dir / "linked"
    done = run_build(build_dir, MODULE, "-o", str(www / "site"), "--server", served.url, cases=module_dir / "cases")
    assert done.returncode == 0, done.stderr
    server = Server([sys.executable, "-m", "http.server", str(site_port), "--bind", "127.0.0.1", "--directory", str(www)],
                    {"PATH": "/usr/bin:/bin"}, www, build_dir / "linked-http.log", site_port, "site/")
    server.site = server.url + "site/"
    yield server
    server.stop()

"""A run that is killed or raced: real `readingroom deid` subprocesses, killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import readingroom
from readingroom.deid import deidentify
from readingroom.deid.writer import LOCK_NAME, REPORT_NAME
from readingroom.errors import InputError

SRC = Path(readingroom.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def big_series(tmp_path_factory) -> Path:
    """Enough slices that a run lasts seconds, long enough to be raced and killed."""
    from readingroom.dicom.synthetic import write_ct_phantom

    folder = tmp_path_factory.mktemp("ct400")
    write_ct_phantom(folder, slices=400, size=256, pixel_spacing=(0.8, 0.8), slice_spacing=1.0)
    return folder


def _start(source: Path, dest: Path, key: Path, workers: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen([sys.executable, "-m", "readingroom", "deid", str(source), "-o", str(dest),
                             "--key", str(key), "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_until(condition, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended first: {proc.stderr.read().decode()}"
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _written(dest: Path) -> set[str]:
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*.dcm")}


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie has stopped; only its exit status waits to be read


def test_a_second_run_into_the_same_folder_is_refused_and_the_first_completes(big_series, tmp_path):
    dest, key = tmp_path / "out", tmp_path / "k" / "deid.key"
    first = _start(big_series, dest, key, workers=1)
    try:
        _wait_until(lambda: dest.is_dir() and _written(dest), first)
        first.send_signal(signal.SIGSTOP)  # held mid-run, however fast the machine, while the second tries
        with pytest.raises(InputError, match=r"another `readingroom deid` run is writing into this folder; wait for it"):
            deidentify(big_series, dest, key_path=key, workers=1)
        second = subprocess.run([sys.executable, "-m", "readingroom", "deid", str(big_series), "-o", str(dest),
                                 "--key", str(key)], env={**os.environ, "PYTHONPATH": str(SRC)},
                                capture_output=True, text=True, check=False)
        assert second.returncode == 2 and len(second.stderr.strip().splitlines()) == 1
    finally:
        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    report = json.loads((dest / REPORT_NAME).read_text())
    assert report["counts"]["written"] == 400
    assert {f["path"] for f in report["files"]} == _written(dest)
    assert not (dest / LOCK_NAME).exists() and not list(dest.rglob("*.deid-tmp"))


def test_killing_the_parent_stops_its_workers_within_a_second_and_no_report_lies(big_series, tmp_path):
    dest, key = tmp_path / "out", tmp_path / "k" / "deid.key"
    deidentify(big_series, dest, key_path=key, workers=1)  # an earlier complete run and its report
    parent = _start(big_series, dest, key, workers=2)
    _wait_until(lambda: not (dest / REPORT_NAME).exists() and len(_children(parent.pid)) == 2, parent)
    workers = _children(parent.pid)
    _wait_until(lambda: any(Path(f"/proc/{w}/fd").exists() for w in workers), parent)
    parent.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    parent.wait()
    while any(_alive(w) for w in workers) and time.monotonic() - killed_at < 1.0:
        time.sleep(0.01)
    assert [w for w in workers if _alive(w)] == []
    assert not (dest / REPORT_NAME).exists()  # the earlier run's report no longer describes the folder
    report = deidentify(big_series, dest, key_path=key, workers=2)  # the folder is not left locked
    assert report.written == 400
    assert {f["path"] for f in json.loads((dest / REPORT_NAME).read_text())["files"]} == _written(dest)

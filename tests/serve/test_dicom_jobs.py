"""The serving app's DICOM pool when a worker dies mid-job (a hostile file can exhaust its memory)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from readingroom.server.dicom_jobs import DicomJobs, JobFailed
from readingroom.server.gate import CaseGate
from tests.serve.conftest import CASES, HEAD_CT


def killed(_folder) -> list[str]:
    """A check whose worker is killed -9 while it runs."""
    os.kill(os.getpid(), signal.SIGKILL)
    return []


def run(coroutine):
    """``asyncio.run`` in a thread of its own: Playwright's session fixtures may already run a loop in this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture
def jobs():
    pool = DicomJobs(1)
    yield pool
    pool.stop()


def test_a_killed_worker_fails_its_job_and_the_next_job_gets_a_new_pool(jobs):
    with pytest.raises(JobFailed, match=r"^its worker process died \(out of memory, or killed\)$"):
        jobs.wait(killed, None)
    assert jobs.wait(len, "works") == 5
    with pytest.raises(JobFailed):
        run(jobs.run(killed, None))
    assert run(jobs.run(len, "again")) == 5


def test_a_case_whose_check_killed_its_worker_is_withheld_until_it_changes(jobs, tmp_path, monkeypatch):
    shutil.copytree(CASES / HEAD_CT, tmp_path / HEAD_CT)
    gate = CaseGate(tmp_path, jobs)
    monkeypatch.setattr("readingroom.server.gate.case_problems", killed)
    verdict = run(gate.checked(HEAD_CT))
    assert verdict.problems == ["the check could not finish: its worker process died (out of memory, or killed); "
                                "run `readingroom check` on it"]
    monkeypatch.undo()
    assert run(gate.checked(HEAD_CT)) == verdict  # cached: no check per request
    os.utime(tmp_path / HEAD_CT / "case.ipynb", ns=(1, 1))  # an educator's edit
    assert run(gate.checked(HEAD_CT)).problems == []

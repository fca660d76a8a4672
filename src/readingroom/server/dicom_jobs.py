"""The serving app's DICOM work, in worker processes: the gate's checks, thumbnails, conference encoding.

Reading DICOM is Python work that holds the GIL: on the event loop, or in a thread beside
it, one malformed 16 MB file dropped into a case froze every conference websocket for
6.8 s. Each job here is a plain module-level function run in a process pool, so the loop
only awaits a result; worker threads (a conference being started) wait on it too, without
holding the GIL. Workers are started by spawning, not forking: the server process has
threads, sockets and kernels' pipes a fork would copy.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

T = TypeVar("T")


class JobFailed(RuntimeError):
    """A worker died during the job (killed, out of memory): the job's input is suspect; the pool is renewed."""


def default_workers() -> int:
    """Two where there are two cores or more: a slow check then never holds up every other."""
    return max(1, min(2, os.cpu_count() or 1))


class DicomJobs:
    """A process pool for DICOM jobs, started on first use; ``workers=0`` runs jobs in the caller (tests, CLI)."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers
        self._pool: Executor | None = None

    def _executor(self) -> Executor | None:
        if self.workers and self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    async def run(self, job: Callable[..., T], *args) -> T:
        """``job(*args)`` in a worker, awaited; in a thread when there is no pool, still off the loop."""
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, job, *args)
        except BrokenProcessPool:
            raise self._renewed(pool) from None

    def wait(self, job: Callable[..., T], *args) -> T:
        """``job(*args)`` for a caller off the event loop (a worker thread, start-up): blocks until done."""
        pool = self._executor()
        if pool is None:
            return job(*args)
        try:
            return pool.submit(job, *args).result()
        except BrokenProcessPool:
            raise self._renewed(pool) from None

    def _renewed(self, broken: Executor) -> JobFailed:
        """A dead worker breaks the whole pool: the next job gets a new one."""
        if self._pool is broken:
            self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)
        return JobFailed("its worker process died (out of memory, or killed)")

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

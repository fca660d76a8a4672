"""Durable writes: a record is acknowledged once it is in the local journal, then replayed into the store until it lands.

Two threads, so neither the event loop nor a down database holds anyone up:

- the journal writer takes every record that arrived while it was writing and keeps them
  with one commit (group commit: 200 answers at once cost a few fsyncs, not 200), then
  resolves each record's future; a caller acknowledges the record only then;
- the drainer replays the journal into the records store, oldest first, in batches, with
  idempotency keys (a batch committed just before a crash lands once), retrying with
  growing pauses while the store is unreachable. A record the store refuses for good
  (it names a session or participant the store lacks) is kept in the journal and counted,
  never dropped and never retried in a loop.

A record whose journal write fails (the disk is full) is not acknowledged: the future
fails and the client retries. Records no client waits for (a leave, a session's end) are
held and written again until the journal takes them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError

from .errors import JournalError, RecordsError, StoreUnavailableError
from .journal import Entry, Journal
from .store import RecordsStore

log = logging.getLogger("readingroom.records")

BATCH = 500  # records a store transaction
# The drainer waits this long after being woken, so a burst of answers (a poll opening to 200 people)
# goes to the store in a few large transactions after it, not in one small one per journal commit
# competing with the burst for the disk and the interpreter.
GATHER_SECONDS = 0.5
RETRY_FIRST, RETRY_MAX = 0.2, 5.0  # seconds between replays while the store is unreachable


@dataclass(frozen=True)
class Status:
    """What the presenter's console shows: records waiting for the store, and why if it is unreachable."""

    waiting: int
    refused: int
    problem: str | None


class DurableRecords:
    """Attendance, poll answers and session ends, acknowledged once journaled; see the module's docstring."""

    def __init__(self, store: RecordsStore, journal: Journal) -> None:
        self.store, self.journal = store, journal
        self._incoming: queue.SimpleQueue[tuple[Entry, Future | None] | None] = queue.SimpleQueue()
        self._held: list[Entry] = []  # not journaled yet (the disk was full); no client waits for these
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._problem: str | None = None
        self._writer = threading.Thread(target=self._write_loop, name="readingroom-journal", daemon=True)
        self._drainer = threading.Thread(target=self._drain_loop, name="readingroom-records", daemon=True)
        self._writer.start()
        self._drainer.start()

    def submit(self, entry: Entry) -> Future:
        """A future resolved once ``entry`` is journaled (acknowledge then), failed with JournalError if it cannot be."""
        done: Future = Future()
        self._incoming.put((entry, done))
        return done

    def keep(self, entry: Entry) -> None:
        """A record nobody waits on: journaled as soon as the journal can take it, however long that is."""
        self._incoming.put((entry, None))

    def status(self) -> Status:
        try:
            waiting, refused = self.journal.counts()
        except JournalError as error:
            return Status(len(self._held), 0, str(error))
        problem = self._problem or (f"{len(self._held)} records wait for room in the journal" if self._held else None)
        return Status(waiting + len(self._held), refused, problem)

    def drain(self, timeout: float) -> bool:
        """Wait until everything journaled is in the store (True), or ``timeout`` seconds (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status().waiting == 0 and self._incoming.empty():
                return True
            self._wake.set()
            time.sleep(0.05)
        return False

    def close(self, timeout: float = 5.0) -> None:
        """Stop after a last try to get everything into the store; what is left stays in the journal for next time."""
        self.drain(timeout)
        self._stopping.set()
        self._incoming.put(None)
        self._wake.set()
        self._writer.join(timeout)
        self._drainer.join(timeout)

    # The journal writer

    def _write_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                first = self._incoming.get(timeout=1.0 if self._held else None)
            except queue.Empty:
                first = None
            batch = [first] if first is not None else []
            while len(batch) < BATCH:
                try:
                    item = self._incoming.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    batch.append(item)
            self._journal(batch)

    def _journal(self, batch: list[tuple[Entry, Future | None]]) -> None:
        entries = self._held + [entry for entry, _ in batch]
        if not entries:
            return
        try:
            self.journal.append(entries)
        except JournalError as error:
            log.error("records: %s; answers are not acknowledged until it can be written", error)
            self._held = [entry for entry, done in batch if done is None] + self._held
            for _, done in batch:
                if done is not None:
                    done.set_exception(error)
            return
        self._held = []
        for _, done in batch:
            if done is not None:
                done.set_result(None)
        self._wake.set()

    # The drainer

    def _drain_loop(self) -> None:
        pause = RETRY_FIRST
        while not self._stopping.is_set():
            try:
                landed = self._drain_once()
            except Exception as error:  # noqa: BLE001  the store is unreachable, or the journal unreadable: retry
                self._problem = _one_line(error)
                log.warning("records: the store cannot take records now (%s); retrying in %.1f s", self._problem, pause)
                self._wake.wait(pause)
                self._wake.clear()
                pause = min(pause * 2, RETRY_MAX)
                continue
            if self._problem is not None:
                log.warning("records: the store takes records again")
            self._problem, pause = None, RETRY_FIRST
            if landed < BATCH:
                self._wake.wait(1.0)
                self._wake.clear()
                self._stopping.wait(GATHER_SECONDS)

    def _drain_once(self) -> int:
        entries = self.journal.pending(BATCH)
        if not entries:
            return 0
        try:
            self.store.record_entries(entries)
        except StoreUnavailableError:
            raise
        except (IntegrityError, RecordsError):  # one of them is refused for good: find it, keep the rest going
            return self._one_by_one(entries)
        self.journal.remove(entry.key for entry in entries)
        return len(entries)

    def _one_by_one(self, entries: list[Entry]) -> int:
        landed = 0
        for entry in entries:
            try:
                self.store.record_entries([entry])
            except StoreUnavailableError:
                raise
            except (IntegrityError, RecordsError) as refused:
                reason = _one_line(refused)
                log.error("records: the store refuses a %s record (%s); it stays in the journal", entry.kind, reason)
                self.journal.refuse(entry.key, reason)
                continue
            self.journal.remove([entry.key])
            landed += 1
        return landed


def _one_line(error: Exception) -> str:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]

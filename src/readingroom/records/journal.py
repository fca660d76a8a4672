"""The local journal: attendance and answers kept in a SQLite file next to the server until the store has them.

A record is acknowledged once it is here (one fsync of a write-ahead log, shared by every
record that arrived meanwhile), not once the records store has it: the store may be a
PostgreSQL server that is down, or a disk that is full, and a crash must not lose what the
presenter saw counted. :mod:`.durable` replays the journal into the store.

The same file keeps what this server needs to reopen its live conferences after a crash
(join code, presenter token, the secret its participants' tickets are signed with), so it
is created readable by its owner only.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from .errors import JournalError, RecordsError

ATTENDANCE_KINDS = ("join", "leave", "reconnect")
KINDS = (*ATTENDANCE_KINDS, "answer", "end")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store (url TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE NOT NULL, kind TEXT NOT NULL,
    session_id INTEGER NOT NULL, participant_id INTEGER, at TEXT NOT NULL, poll_id TEXT, answer TEXT,
    refused TEXT);
CREATE TABLE IF NOT EXISTS conference (
    session_id INTEGER PRIMARY KEY, code TEXT NOT NULL, token TEXT NOT NULL, secret BLOB NOT NULL);
"""


@dataclass(frozen=True)
class Entry:
    """One record on its way to the store; ``key`` makes a replay land once.

    ``kind`` is join, leave or reconnect (attendance), answer (a poll answer, with
    ``poll_id`` and ``answer``), or end (the session ended at ``at``).
    """

    key: str
    kind: str
    session_id: int
    participant_id: int | None
    at: datetime
    poll_id: str | None = None
    answer: Any = None


@dataclass(frozen=True)
class LiveConference:
    """What reopens a conference with the links everyone already holds."""

    session_id: int
    code: str
    token: str
    secret: bytes


def _claim(path: Path) -> int:
    """Hold ``<journal>.lock`` while open: a second server on the same journal would close this one's
    live conferences as crashed and replay its records; it is refused with the fix instead."""
    handle = os.open(path.with_name(path.name + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        raise RecordsError(f"the records journal {path} is in use by another readingroom server; stop it, or give "
                           f"this one a journal of its own (--journal)") from None
    return handle


def journal_path(url: str) -> Path:
    """Where a store's journal lives by default: beside a SQLite file; in the user's data folder for a server."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(parsed.database).with_suffix(".journal")
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    digest = hashlib.sha256(parsed.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return data_home / "readingroom" / f"journal-{digest}.sqlite"


class Journal:
    """A SQLite file in WAL mode with ``synchronous=FULL``: a returned :meth:`append` survives kill -9 and power loss."""

    def __init__(self, path: Path, store_url: str) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._claim = _claim(path)
        except OSError as error:
            raise JournalError(f"cannot open the records journal {path}: {error}; give a writable place") from None
        try:
            os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # presenter tokens: its owner only
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            os.close(self._claim)
            raise JournalError(f"cannot open the records journal {path}: {error}; give a writable place") from None
        self._lock = threading.Lock()
        self._bind(make_url(store_url).render_as_string(hide_password=True))

    def _bind(self, url: str) -> None:
        """One journal, one store: replaying another store's records into this one would misfile them."""
        row = self._db.execute("SELECT url FROM store").fetchone()
        if row is None:
            self._db.execute("INSERT INTO store (url) VALUES (?)", (url,))
        elif row[0] != url:
            raise RecordsError(f"the records journal {self.path} belongs to the store {row[0]}, not {url}; "
                               f"start with that store, or give this one its own journal")

    def close(self) -> None:
        self._db.close()
        os.close(self._claim)

    def append(self, entries: Iterable[Entry]) -> None:
        """Keep ``entries`` durably, in one transaction (one fsync); an entry whose key is here already is kept once."""
        rows = [(e.key, e.kind, e.session_id, e.participant_id, e.at.isoformat(), e.poll_id, json.dumps(e.answer))
                for e in entries]
        self._write("INSERT OR IGNORE INTO pending (key, kind, session_id, participant_id, at, poll_id, answer) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def pending(self, limit: int) -> list[Entry]:
        """The oldest entries not yet in the store (refused ones stay out of the way)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, kind, session_id, participant_id, at, poll_id, answer FROM pending "
                "WHERE refused IS NULL ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [Entry(key, kind, session, participant, datetime.fromisoformat(at), poll, json.loads(answer))
                for key, kind, session, participant, at, poll, answer in rows]

    def remove(self, keys: Iterable[str]) -> None:
        """These are in the store now."""
        self._write("DELETE FROM pending WHERE key = ?", [(key,) for key in keys])

    def refuse(self, key: str, reason: str) -> None:
        """The store refuses this one for good (not for being down): kept, counted, never retried blindly."""
        self._write("UPDATE pending SET refused = ? WHERE key = ?", [(reason, key)])

    def counts(self) -> tuple[int, int]:
        """(waiting, refused)."""
        with self._lock:
            waiting, refused = self._db.execute(
                "SELECT COUNT(*) - COUNT(refused), COUNT(refused) FROM pending").fetchone()
        return waiting, refused

    def remember(self, conference: LiveConference) -> None:
        self._write("INSERT OR REPLACE INTO conference (session_id, code, token, secret) VALUES (?, ?, ?, ?)",
                    [(conference.session_id, conference.code, conference.token, conference.secret)])

    def conferences(self) -> list[LiveConference]:
        """Every conference this server started, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT session_id, code, token, secret FROM conference "
                                    "ORDER BY session_id DESC").fetchall()
        return [LiveConference(*row) for row in rows]

    def _write(self, statement: str, rows: list[tuple]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(statement, rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._rollback()
                raise JournalError(f"cannot write the records journal {self.path}: {error}") from None

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no transaction was open

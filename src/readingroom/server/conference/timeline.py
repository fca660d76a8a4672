"""A session's timeline, written as the conference runs: what the replay steps through and the export carries.

One JSON object a line in ``timeline.jsonl`` of the session's recording folder
(:mod:`.recordings`), each with ``t`` (epoch seconds) and a ``kind``:

- ``start`` (``session``), ``end``: the session's bounds (``start`` at the records' start time);
- ``view`` (``view``: the presenter's snapshot, as followers got it), at most one per
  :data:`VIEW_SPACING` while the presenter scrolls, the last of a run always kept;
- ``case`` (``case``): the presenter moved to another case of the agenda;
- ``reveal`` (``case``, ``stage``): a later stage of the case was revealed;
- ``poll_open`` (``poll``: id, kind, prompt, options), ``poll_closed`` (``results``: the counts
  everyone saw, or for a locate poll how many places were marked; never who answered what);
- ``answered`` (``question``: its text as everyone saw it, never who asked).

The events come from what the room sends out (:func:`events_of`), so the timeline holds
exactly what participants saw. Writing never touches the event loop: :meth:`Timelines.observe`
appends to a buffer, and one thread writes every :data:`FLUSH_SECONDS` (a slow or full disk
delays the file, not the conference). A crash (kill -9) loses at most that much; a line
torn by it is skipped by :func:`read_timeline`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from readingroom.errors import InputError
from readingroom.server.conference.recordings import (
    NOT_RECORDED,
    TIMELINE,
    session_folder,
)
from readingroom.server.conference.replay_audio import opus_copy
from readingroom.server.conference.room import EVERYONE, PARTICIPANTS, Outgoing

log = logging.getLogger("readingroom.conference")

FLUSH_SECONDS = 0.5  # at most this much of a session is lost when the server is killed
VIEW_SPACING = 0.1  # seconds: a replay in step within half a second needs no more views than this
MAX_PENDING = 100_000  # lines held while the disk refuses them; beyond, the oldest go (and the log says so)


class _Seen:
    """What :func:`events_of` remembers of a session to tell a reveal or a newly answered question."""

    def __init__(self) -> None:
        self.case: str | None = None
        self.stage = 0
        self.answered: set[tuple[int, str]] = set()


def events_of(outgoing: Outgoing, seen: _Seen, now: float) -> list[dict]:
    """The timeline events in what the room sends out; everything else (rosters, live results, pongs) is not kept."""
    events: list[dict] = []
    for audience, message in outgoing:
        kind = message["type"]
        if kind == "view" and audience == PARTICIPANTS:
            view = message["view"]
            if view["case"] != seen.case:
                events.append({"t": now, "kind": "case", "case": view["case"]})
                seen.case, seen.stage = view["case"], 0
            if view.get("stage", 0) > seen.stage:
                events.append({"t": now, "kind": "reveal", "case": view["case"], "stage": view["stage"]})
            seen.stage = view.get("stage", 0)
            events.append({"t": now, "kind": "view", "view": view})
        elif kind == "poll" and message["poll"] is not None:
            events.append({"t": now, "kind": "poll_open", "poll": message["poll"]})
        elif kind == "results" and audience == EVERYONE:  # to everyone only once the poll closed
            results = {k: message[k] for k in ("poll", "prompt", "options", "counts") if k in message}
            if "points" in message:
                results["marked"] = len(message["points"])
            events.append({"t": now, "kind": "poll_closed", "results": results})
        elif kind == "questions":
            for question in message["questions"]:
                key = (question["id"], question["text"])
                if question["answered"] and key not in seen.answered:
                    seen.answered.add(key)
                    events.append({"t": now, "kind": "answered", "question": question["text"]})
        elif kind == "ended":
            events.append({"t": now, "kind": "end"})
    return events


class Timeline:
    """One session's ``timeline.jsonl``: lines buffered by the event loop, written by the flushing thread."""

    def __init__(self, path: Path, started_at: float, session_id: int) -> None:
        self.path = path
        self.seen = _Seen()
        self.ended = False
        self._start = json.dumps({"t": started_at, "kind": "start", "session": session_id})  # heads a new file
        self._lines: list[str] = []
        self._view: dict | None = None  # the latest view, held while the presenter scrolls
        self._view_written_at = float("-inf")
        self._lock = threading.Lock()  # the buffer: the event loop adds, a flush takes
        self._writing = threading.Lock()  # the file: the flushing thread, or the server stopping
        self._file = None
        self._refused = False

    def observe(self, outgoing: Outgoing, now: float) -> None:
        for event in events_of(outgoing, self.seen, now):
            if event["kind"] == "view":
                self._hold_view(event)
                continue
            self._add(event)
            if event["kind"] == "end":
                self.ended = True

    def _hold_view(self, event: dict) -> None:
        """Thin a scroll to about one view per VIEW_SPACING: a view is dropped only when the next one came within
        VIEW_SPACING of it and one was written less than VIEW_SPACING before it (the last of a run is kept)."""
        with self._lock:
            held, self._view = self._view, event
            if held is not None and (held["t"] - self._view_written_at >= VIEW_SPACING
                                     or event["t"] - held["t"] >= VIEW_SPACING):
                self._lines.append(json.dumps(held))
                self._view_written_at = held["t"]

    def _add(self, event: dict) -> None:
        """Any other event: the view held goes first, so a reveal or a poll lands on the picture it was about."""
        with self._lock:
            self._release_view()
            self._lines.append(json.dumps(event))

    def _release_view(self) -> None:
        if self._view is not None:
            self._lines.append(json.dumps(self._view))
            self._view_written_at, self._view = self._view["t"], None

    def flush(self) -> None:
        """Write what is buffered (the flushing thread, or the server stopping); on a refusing disk, keep it for later."""
        with self._writing:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            self._release_view()
            lines, self._lines = self._lines, []
        if not lines:
            return
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115  (open while the session runs)
                if self._file.tell() == 0:  # a resumed session appends to the timeline it had
                    self._file.write(f"{self._start}\n")
            self._file.write("".join(f"{line}\n" for line in lines))
            self._file.flush()
            os.fsync(self._file.fileno())
            if self._refused:
                log.warning("conference: the timeline %s is written again", self.path)
            self._refused = False
        except OSError as error:
            self._close_file()  # reopened next time: a half-written line is then ended by the next one's newline
            with self._lock:
                self._lines[:0] = lines
                dropped = len(self._lines) - MAX_PENDING
                if dropped > 0:
                    del self._lines[:dropped]
            if not self._refused:
                log.error("conference: cannot write the timeline %s (%s); kept in memory until it can", self.path,
                          error.strerror)
            self._refused = True

    def close(self) -> None:
        with self._writing:
            self._flush()
            self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None


class Timelines:
    """Every session's timeline in one serving process, and the one thread that writes them.

    With ``record`` off, nothing is written but the :data:`~.recordings.NOT_RECORDED` marker.
    """

    def __init__(self, root: Path, record: bool = True) -> None:
        self.root, self.record = root, record
        self._open: dict[int, Timeline] = {}
        self._marked: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def observe(self, conference, outgoing: Outgoing) -> None:
        """What the room sends out because of one message (on the event loop: buffered, never written here)."""
        if not self.record:
            self._mark_not_recorded(conference.id)
            return
        timeline = self._open.get(conference.id)
        if timeline is None:
            timeline = self._timeline(conference)
        timeline.observe(outgoing, time.time())
        if timeline.ended:
            with self._lock:
                self._open.pop(conference.id, None)
            self._in_thread(lambda: self._finish(timeline))

    def _timeline(self, conference) -> Timeline:
        path = session_folder(self.root, conference.id) / TIMELINE
        timeline = Timeline(path, conference.session.starts_at.timestamp(), conference.id)
        with self._lock:
            self._open[conference.id] = timeline
        if self._thread is None:
            self._thread = threading.Thread(target=self._flush_loop, name="readingroom-timelines", daemon=True)
            self._thread.start()
        return timeline

    @staticmethod
    def _finish(timeline: Timeline) -> None:
        """The session ended: its timeline is written, and its voice made ready for replay (if Janus is done)."""
        timeline.close()
        try:
            opus_copy(timeline.path.parent)
        except InputError as error:  # made on demand later, once Janus has finished the file
            log.warning("conference: %s", error)

    def _mark_not_recorded(self, session_id: int) -> None:
        if session_id in self._marked:
            return
        self._marked.add(session_id)

        def mark() -> None:
            folder = session_folder(self.root, session_id)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / NOT_RECORDED).touch()
            except OSError as error:
                log.error("conference: cannot mark session %d as not recorded in %s (%s)", session_id, folder,
                          error.strerror)

        self._in_thread(mark)

    @staticmethod
    def _in_thread(work) -> None:
        threading.Thread(target=work, name="readingroom-timeline-io", daemon=True).start()

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_SECONDS):
            self._flush_all()

    def _flush_all(self) -> None:
        with self._lock:
            timelines = list(self._open.values())
        for timeline in timelines:
            timeline.flush()

    def close(self) -> None:
        """The server is stopping: every open session ends now, and all is written before the process goes."""
        self._stop.set()
        with self._lock:
            timelines, self._open = list(self._open.values()), {}
        now = time.time()
        for timeline in timelines:
            timeline.observe([(EVERYONE, {"type": "ended"})], now)
            timeline.close()


def read_timeline(path: Path) -> list[dict]:
    """The events of a ``timeline.jsonl`` in order; a line a crash tore (or anything not an event) is skipped."""
    return list(_events(path.read_text(encoding="utf-8", errors="replace").splitlines()))


def _events(lines: Iterable[str]) -> Iterable[dict]:
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("t"), (int, float)) and isinstance(event.get("kind"), str):
            yield event

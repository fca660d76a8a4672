"""A recorded session as the replay page and the export read it: its events on the recording's clock, and chapters.

The clock's zero is when the voice began (``voice.json``'s ``started_at``), so audio and
images stay in step; a session recorded without voice (``--no-voice``, or Janus failing)
is replayed from its start, the timeline alone. Every ``t`` here is seconds from that zero;
an event from before the voice began (the presenter's first view) has a negative ``t``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from readingroom.errors import InputError
from readingroom.server.conference import replay_audio
from readingroom.server.conference.recordings import (
    NOT_RECORDED,
    RECORDING,
    TIMELINE,
    VOICE,
    VOICE_STARTED,
    session_folder,
)
from readingroom.server.conference.timeline import read_timeline

TIMELINE_EXPORT = "timeline.json"
CHAPTER_KINDS = ("case", "reveal", "poll_open", "poll_closed")


@dataclass(frozen=True)
class Recording:
    """``started_at``: epoch seconds of the clock's zero; ``voice``: the WAV Janus wrote, or None."""

    session: int
    folder: Path
    started_at: float
    events: list[dict]
    voice: Path | None

    @property
    def duration(self) -> float:
        """Seconds from zero to the session's end (or its last event, after a crash)."""
        return max([0.0, *(event["t"] for event in self.events)])

    @property
    def chapters(self) -> list[dict]:
        """``{"t", "kind", "title"}`` at each new case, reveal, poll and poll result, in order."""
        cases: list[str] = []
        chapters = []
        for event in self.events:
            kind = event["kind"]
            if kind == "case" and event["case"] not in cases:
                cases.append(event["case"])
            if kind not in CHAPTER_KINDS:
                continue
            number = cases.index(event["case"]) + 1 if event.get("case") in cases else len(cases)
            chapters.append({"t": max(0.0, event["t"]), "kind": kind, "title": _chapter_title(event, number)})
        return chapters

    def revealed(self) -> dict[str, int]:
        """The last stage revealed of each case during the session: the replay shows no further."""
        stages: dict[str, int] = {}
        for event in self.events:
            if event["kind"] == "view":
                case = event["view"]["case"]
                stages[case] = max(stages.get(case, 0), event["view"].get("stage", 0))
        return stages

    def document(self) -> dict:
        """What ``conference export`` writes as timeline.json."""
        return {"session": self.session, "started_at": self.started_at, "duration": round(self.duration, 3),
                "voice": self.voice is not None, "chapters": self.chapters, "events": self.events}


def _chapter_title(event: dict, case_number: int) -> str:
    kind = event["kind"]
    if kind == "case":
        return f"Case {case_number}"
    if kind == "reveal":
        return f"Case {case_number}: stage {event['stage'] + 1} revealed"
    if kind == "poll_open":
        return f"Poll: {event['poll']['prompt']}"
    return f"Poll results: {event['results']['prompt']}"


def load(root: Path, session: int) -> Recording:
    """The recording of ``session`` under ``root``; :class:`InputError` saying why there is none."""
    folder = session_folder(root, session)
    if (folder / NOT_RECORDED).exists():
        raise InputError(f"session {session} was not recorded (it was started with --no-record)")
    timeline = folder / TIMELINE
    if not timeline.is_file():
        raise InputError(f"session {session}: no recording in {root}; check the session id "
                         "(readingroom records attendance lists them) or give the folder with --recordings")
    events = read_timeline(timeline)
    if not events:
        raise InputError(f"session {session}: its timeline {timeline} holds no events")
    voice = folder / VOICE if (folder / VOICE).is_file() else None
    zero = _voice_started(folder) if voice else None
    if zero is None:
        voice, zero = None, events[0]["t"]
    relative = [{**event, "t": round(event["t"] - zero, 3)} for event in events]
    return Recording(session, folder, zero, relative, voice)


def _voice_started(folder: Path) -> float | None:
    """When Janus began writing the voice (voice.json), or None when that is not known (then no audio is used)."""
    try:
        started = json.loads((folder / VOICE_STARTED).read_text())["started_at"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(started) if isinstance(started, (int, float)) else None


def export(recording: Recording, out: Path, progress: replay_audio.Progress | None = None) -> list[Path]:
    """Write ``recording.ogg`` (when there is voice) and ``timeline.json`` into ``out``; both or neither appear."""
    if out.exists() and not out.is_dir():
        raise InputError(f"-o {out}: not a folder; give a folder to write the recording and timeline into")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"-o {out}: cannot create it ({error.strerror})") from None
    written: list[tuple[str, Path]] = []
    try:
        if recording.voice is not None:
            audio = _temporary(out, RECORDING)
            written.append((RECORDING, audio))
            replay_audio.transcode(recording.voice, audio, progress)
        document = _temporary(out, TIMELINE_EXPORT)
        written.append((TIMELINE_EXPORT, document))
        document.write_text(json.dumps(recording.document(), indent=1), encoding="utf-8")
        for name, temporary in written:
            os.replace(temporary, out / name)
    except OSError as error:
        raise InputError(f"-o {out}: cannot write there ({error.strerror}); give a writable folder with room") from None
    finally:
        for _, temporary in written:
            temporary.unlink(missing_ok=True)
    return [out / name for name, _ in written]


def _temporary(folder: Path, name: str) -> Path:
    handle, path = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    os.close(handle)
    os.chmod(path, 0o644)
    return Path(path)

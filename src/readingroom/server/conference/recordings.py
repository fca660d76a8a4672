"""Where a conference's recording is kept: one folder per session, written by voice and read by replay.

Voice (Janus's AudioBridge) writes the mixed audio there while the session runs; the serving app writes the
session's timeline beside it; the replay page and `readingroom conference export` read both. Every serving process
of one deployment points at the same root (a shared folder), so any of them can serve a replay.
"""

from __future__ import annotations

import os
from pathlib import Path

VOICE = "voice.wav"  # the AudioBridge's mix of every speaker, as Janus writes it
VOICE_STARTED = "voice.json"  # {"started_at": epoch seconds}: when Janus began writing, to put audio and timeline in step
TIMELINE = "timeline.jsonl"  # one JSON object a line: {"t": epoch seconds, "kind": ..., ...}
NOT_RECORDED = "not-recorded"  # present when the session was started with --no-record
RECORDING = "recording.ogg"  # voice.wav as Opus in OGG at speech bitrate: what replay streams and export writes

RECORDINGS_SETTING = "readingroom.recordings"  # tornado setting: the root (a Path) of every session's folder
RECORD_SETTING = "readingroom.record"  # tornado setting: False when started with --no-record


def default_root() -> Path:
    """The user's data folder, beside the journal's default place."""
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "readingroom" / "recordings"


def session_folder(root: Path, session_id: int) -> Path:
    """The one folder of a session's recording (created on first use by whoever writes first)."""
    return root / f"session-{int(session_id)}"

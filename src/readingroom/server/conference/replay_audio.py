"""The session's voice as Opus in OGG at speech bitrate, for replay and export: a rural link cannot stream WAV.

Janus writes the AudioBridge mix as ``voice.wav`` (16-bit PCM, about 770 kbit/s at 48 kHz);
:func:`opus_copy` makes ``recording.ogg`` beside it (mono, :data:`BITRATE`), after the session
and again whenever the WAV is newer than the copy (Janus finishing its file after the end).
The copy is written under a temporary name and renamed, so a reader never sees half of one.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from readingroom.errors import InputError
from readingroom.server.conference.recordings import RECORDING, VOICE

BITRATE = 24_000  # bit/s: speech at Opus's "wideband voice" quality, a tenth of a 384 kbit/s link
RATE = 48_000  # Opus's own rate; Janus mixes at up to 48 kHz
Progress = Callable[[int, int], None]  # (seconds done, seconds in all)

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def opus_copy(folder: Path, progress: Progress | None = None) -> Path | None:
    """``recording.ogg`` of the session in ``folder``, made or remade from ``voice.wav`` as needed; None without voice."""
    voice = folder / VOICE
    if not voice.is_file():
        return None
    target = folder / RECORDING
    with _lock_for(folder):  # two viewers asking at once: one transcodes, the other waits for it
        if not target.is_file() or target.stat().st_mtime < voice.stat().st_mtime:
            transcode(voice, target, progress)
    return target


def transcode(source: Path, target: Path, progress: Progress | None = None) -> None:
    """``source`` (any audio FFmpeg reads) as mono Opus in OGG at ``target``; :class:`InputError` if unreadable."""
    import av

    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(handle)
    os.chmod(temporary, 0o644)  # as any file written here: every serving process of the site reads it
    try:
        with av.open(str(source)) as recording, av.open(temporary, "w", format="ogg") as out:
            heard = recording.streams.audio[0]
            total = int(heard.duration * heard.time_base) if heard.duration else 0
            opus = out.add_stream("libopus", rate=RATE, layout="mono")
            opus.bit_rate = BITRATE
            opus.options = {"application": "voip", "vbr": "constrained"}  # at most about BITRATE, whatever is said
            resample = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            done = -1
            for frame in recording.decode(heard):
                for mono in resample.resample(frame):
                    out.mux(opus.encode(mono))
                if progress and frame.time is not None and int(frame.time) > done:
                    done = int(frame.time)
                    progress(min(done, total), total)
            for mono in resample.resample(None):
                out.mux(opus.encode(mono))
            out.mux(opus.encode(None))
        os.replace(temporary, target)
    except av.error.FFmpegError as error:
        raise InputError(f"{source}: the voice recording cannot be read ({error.strerror}); "
                         "it may still be being written: try again once the session has ended") from None
    finally:
        Path(temporary).unlink(missing_ok=True)


def duration(path: Path) -> float:
    """Seconds of audio in ``path``."""
    import av

    with av.open(str(path)) as recording:
        stream = recording.streams.audio[0]
        if stream.duration is not None:
            return float(stream.duration * stream.time_base)
        return float(recording.duration or 0) / av.time_base


def _lock_for(folder: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(folder, threading.Lock())

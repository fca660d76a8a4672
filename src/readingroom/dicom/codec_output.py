"""What C codecs print while they decode, kept off the terminal and given to the error instead.

openjpeg, libjpeg and GDCM write their complaints straight to file descriptor 2, past
Python's ``sys.stderr``, so a corrupt file scattered lines of C noise above a command's
one-line error. While any decode runs, descriptor 2 points at a temporary file. A decode
that fails takes what was written meanwhile as its detail (shown under ``--debug``);
everything else is written back to the real stderr when the last decode ends, so a line
another thread printed meanwhile (a server's log) is only delayed, never lost.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_state = {"decoding": 0, "saved": -1, "sink": -1, "claimed": []}  # shared by every decoding thread


class Captured:
    """One decode's window onto the captured output."""

    def __init__(self, start: int) -> None:
        self._start = start

    def claim(self) -> str:
        """What was printed since this decode began; it is not written back to the terminal."""
        _flush()
        with _lock:
            end = os.fstat(_state["sink"]).st_size
            _state["claimed"].append((self._start, end))
            text = os.pread(_state["sink"], end - self._start, self._start)
        return text.decode(errors="replace").strip()


@contextmanager
def codec_output() -> Iterator[Captured]:
    """Descriptor 2 captured for the block (shared with other threads decoding at the same time)."""
    _flush()
    with _lock:
        if _state["decoding"] == 0:
            _state["saved"] = os.dup(2)
            _state["sink"] = _new_sink()
            os.dup2(_state["sink"], 2)
        _state["decoding"] += 1
        start = os.fstat(_state["sink"]).st_size
    try:
        yield Captured(start)
    finally:
        _flush()
        with _lock:
            _state["decoding"] -= 1
            if _state["decoding"] == 0:
                _restore()


def _new_sink() -> int:
    handle, path = tempfile.mkstemp(prefix="readingroom-codec-")
    os.unlink(path)
    return handle


def _restore() -> None:
    """Descriptor 2 back to the terminal, with what nobody claimed written to it."""
    saved, sink = _state["saved"], _state["sink"]
    os.dup2(saved, 2)
    kept, position = [], 0
    for start, end in sorted(_state["claimed"]):
        kept.append((position, start))
        position = max(position, end)
    kept.append((position, os.fstat(sink).st_size))
    for start, end in kept:
        if end > start:
            os.write(2, os.pread(sink, end - start, start))
    os.close(sink)
    os.close(saved)
    _state.update(saved=-1, sink=-1, claimed=[])


def _flush() -> None:
    """Python's buffered stderr out first, so its text lands on the side of the switch it was written."""
    for stream in (sys.stderr, sys.__stderr__):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed or detached stream has nothing buffered
                pass

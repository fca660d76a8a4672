"""Conference recording for replay: what keeping the timeline costs the event loop, and what the voice costs a link.

Two figures, each beside the plain approach measured in the same run:

1. Time on the event loop per presenter message: :class:`Timelines.observe` (buffered; a
   thread writes every half second) against the plain approach, appending the line and
   fsync-ing it in the handler, on the same disk (the recordings folder's). A 60-views-a-second
   scroll is what is fed (the presenter's fastest stream), for ``--seconds``.
2. The voice on the link: a WAV as Janus writes it (48 kHz mono 16-bit) against the Opus copy
   replay streams (kbit/s), and how fast the copy is made (seconds of audio per second).

    .venv/bin/python benchmarks/conference_replay.py
    .venv/bin/python benchmarks/conference_replay.py --seconds 5 --audio-minutes 1   # dry run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import write_figures

from readingroom.server.conference.recordings import session_folder
from readingroom.server.conference.replay_audio import opus_copy
from readingroom.server.conference.room import PARTICIPANTS
from readingroom.server.conference.timeline import Timelines

RATE = 48_000
BEGIN, END = "<!-- conference_replay.py figures: begin -->", "<!-- conference_replay.py figures: end -->"
SECTION = "## Issue 17: conference recording and replay (conference_replay.py)"


@dataclass
class _Session:  # what Timelines reads of a conference
    id: int
    session: object


def view(frame: int) -> list:
    return [(PARTICIPANTS, {"type": "view", "seq": frame, "t": None,
                            "view": {"case": "c0ffee0001", "series": 0, "frame": frame % 300, "window": [40, 80]}})]


def loop_cost_buffered(root: Path, messages: int) -> list[float]:
    timelines = Timelines(root)
    conference = _Session(1, type("S", (), {"starts_at": datetime.now(UTC)})())
    costs = []
    for frame in range(messages):
        start = time.perf_counter()
        timelines.observe(conference, view(frame))
        costs.append(time.perf_counter() - start)
        time.sleep(1 / 60)
    timelines.close()
    return costs


def loop_cost_plain(root: Path, messages: int) -> list[float]:
    path = session_folder(root, 2) / "timeline.jsonl"
    path.parent.mkdir(parents=True)
    costs = []
    with path.open("a") as out:
        for frame in range(messages):
            start = time.perf_counter()
            out.write(json.dumps({"t": time.time(), "kind": "view", "view": view(frame)[0][1]["view"]}) + "\n")
            out.flush()
            os.fsync(out.fileno())
            costs.append(time.perf_counter() - start)
            time.sleep(1 / 60)
    return costs


def speech_like(path: Path, minutes: float) -> None:
    """A voice-band stand-in: a 120-240 Hz glide with harmonics, syllable-rate envelope, pauses, a little noise."""
    rng = np.random.default_rng(17)
    t = np.arange(int(RATE * 60 * minutes)) / RATE
    pitch = 180 + 60 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.2 * t) > -0.3)
    signal = 0.25 * voice * envelope + 0.01 * rng.standard_normal(t.size)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="seconds of 60-a-second views per approach")
    parser.add_argument("--audio-minutes", type=float, default=10, help="minutes of voice to encode")
    args = parser.parse_args()
    messages = int(args.seconds * 60)
    with tempfile.TemporaryDirectory(prefix="rr-replay-bench-", dir=Path.home()) as work:
        root = Path(work)
        buffered, plain = loop_cost_buffered(root / "buffered", messages), loop_cost_plain(root / "plain", messages)
        folder = root / "voice"
        folder.mkdir()
        speech_like(folder / "voice.wav", args.audio_minutes)
        start = time.process_time()
        ogg = opus_copy(folder)
        cpu = time.process_time() - start
        seconds = args.audio_minutes * 60
        wav_kbit = (folder / "voice.wav").stat().st_size * 8 / seconds / 1000
        ogg_kbit = ogg.stat().st_size * 8 / seconds / 1000

    def ms(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] * 1000

    load = os.getloadavg()[0]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rows = [
        ("event-loop time per view, median", f"{ms(buffered, 0.5):.3f} ms", f"{ms(plain, 0.5):.3f} ms",
         f"{ms(plain, 0.5) / ms(buffered, 0.5):.0f}x less"),
        ("event-loop time per view, p99", f"{ms(buffered, 0.99):.3f} ms", f"{ms(plain, 0.99):.3f} ms",
         f"{ms(plain, 0.99) / ms(buffered, 0.99):.0f}x less"),
        ("voice on the link (kbit/s)", f"{ogg_kbit:.1f} (Opus in OGG)", f"{wav_kbit:.0f} (WAV)",
         f"{wav_kbit / ogg_kbit:.0f}x less"),
        ("Opus copy made, seconds of voice per CPU second", f"{seconds / cpu:.0f}", "", ""),
    ]
    table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows)
    block = (f"{BEGIN}\n{messages} views at 60 a second per approach, the recordings folder on this machine's disk; "
             f"{args.audio_minutes:g} min of a synthetic voice-band signal ({when}, 1-min load average {load:.1f} on a "
             f"shared 2-core machine).\n\n| figure | ours | plain | ratio |\n|---|---:|---:|---:|\n{table}\n{END}")
    print(block)
    write_figures(block, BEGIN, END, SECTION)


if __name__ == "__main__":
    main()

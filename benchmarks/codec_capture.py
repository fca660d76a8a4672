"""What capturing the C codecs' stderr costs a decode: ``decode_frame`` with the capture and without.

Issue 20, item 5. Every compressed frame is decoded with file descriptor 2 redirected for the
duration (:mod:`readingroom.dicom.codec_output`), so C noise from a corrupt file stays off the
terminal. This measures that price on a JPEG 2000 lossless phantom (the syntax decoded by C
libraries, openjpeg or GDCM): the same frames through ``decode_frame`` as shipped, and with the
capture swapped for a no-op, alternately in every round so both share the machine's conditions,
one thread as in ``readingroom snapshot`` and two as in the frame encoder. The figure is the ratio
of the medians, with / without: 1.00 means the capture is free. Uncompressed greyscale frames are
read straight from the file and never captured, so they pay nothing.

Usage::

    .venv/bin/python benchmarks/codec_capture.py [--rounds 5] [--slices 60]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom.uid

import readingroom.dicom.decode as decode
from readingroom.dicom import open_path
from readingroom.dicom.synthetic import write_ct_phantom


@contextlib.contextmanager
def _no_capture():
    yield None


def _time_decodes(frames, workers: int, capture) -> float:
    decode.codec_output = capture
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(decode.decode_frame, frames))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--slices", type=int, default=60)
    args = parser.parse_args()
    shipped = decode.codec_output
    with tempfile.TemporaryDirectory(prefix="readingroom-bench-") as work:
        folder = Path(work) / "j2k"
        write_ct_phantom(folder, slices=args.slices, size=512, transfer_syntax=pydicom.uid.JPEG2000Lossless)
        frames = open_path(folder).series[0].frames
        _time_decodes(frames, 1, shipped)  # warm the page cache and the decoders
        print(f"{len(frames)} JPEG 2000 lossless frames of 512x512, {args.rounds} rounds, "
              f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for workers in (1, 2):
            timed = {"with": [], "without": []}
            for _ in range(args.rounds):
                timed["with"].append(_time_decodes(frames, workers, shipped))
                timed["without"].append(_time_decodes(frames, workers, _no_capture))
            with_, without = statistics.median(timed["with"]), statistics.median(timed["without"])
            print(f"{workers} thread(s): with capture {with_:.3f} s, without {without:.3f} s (medians); "
                  f"ratio with / without {with_ / without:.3f}")
        print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    decode.codec_output = shipped


if __name__ == "__main__":
    main()

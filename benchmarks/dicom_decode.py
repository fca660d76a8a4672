"""Open and decode a synthetic 512x512x300 CT series: readingroom against SimpleITK.

Issue 2, item 7. For each transfer syntax (uncompressed explicit VR little endian
and JPEG 2000 lossless) the same 300 files are read by

* readingroom: ``open_path(folder)`` (headers only, series assembled and sorted),
  then every frame through ``modality_values`` (decode + rescale to HU) into one
  preallocated int32 volume, so both sides end with a volume in memory;
* SimpleITK: ``ImageSeriesReader.GetGDCMSeriesFileNames(folder)`` (reads headers
  and sorts), then ``SetFileNames`` + ``Execute()`` (decodes and rescales).

"open" and "open + decode" are timed separately for both. The two libraries are
run alternately in every round so they share the machine's conditions; the files
are read once before timing, so both read from the OS page cache. The headline
figure is the ratio SimpleITK time / readingroom time (>1 means readingroom is
faster), on the medians of the rounds.

Goals (issue 2): ratio >= 1.0 uncompressed, >= 0.8 JPEG 2000; opening < 0.5 s.

Usage::

    .venv/bin/python benchmarks/dicom_decode.py [--rounds 3] [--update-readme]

``make bench`` runs it without ``--update-readme``. The phantom files are written
once into ``benchmarks/.data/`` (git-ignored) and reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import re
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pydicom.uid
from rich.console import Console
from rich.table import Table

from harness import write_figures

from readingroom.dicom import modality_values, open_path
from readingroom.dicom.synthetic import write_ct_phantom

try:
    import SimpleITK as sitk
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("SimpleITK is missing: install the bench extra with .venv/bin/pip install -e '.[test,bench]' (or run make bench)")

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
README = HERE / "README.md"
SECTION = "## Opening and decoding a CT series"
BEGIN, END = "<!-- dicom_decode.py figures: begin -->", "<!-- dicom_decode.py figures: end -->"
SLICES, SIZE = 300, 512
CASES = {
    "uncompressed": (pydicom.uid.ExplicitVRLittleEndian, 1.0),
    "JPEG 2000 lossless": (pydicom.uid.JPEG2000Lossless, 0.8),
}
OPEN_GOAL_S = 0.5
console = Console(width=None if sys.stdout.isatty() else 140)


@dataclass
class Timings:
    rr_open: list[float] = field(default_factory=list)
    rr_total: list[float] = field(default_factory=list)
    sitk_open: list[float] = field(default_factory=list)
    sitk_total: list[float] = field(default_factory=list)
    rr_cpu: list[float] = field(default_factory=list)  # CPU time of open + decode, all threads of the process
    sitk_cpu: list[float] = field(default_factory=list)


def phantom_folder(name: str, syntax: pydicom.uid.UID) -> Path:
    """The phantom series for ``syntax``, written once and reused."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    folder = DATA / f"ct-{SIZE}x{SIZE}x{SLICES}-{slug}"
    if folder.is_dir() and len(list(folder.glob("*.dcm"))) == SLICES:
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    console.print(f"writing {SLICES} {name} phantom slices to {folder.relative_to(HERE.parent)} (once) ...")
    write_ct_phantom(partial, slices=SLICES, size=SIZE, transfer_syntax=syntax)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def readingroom_open(folder: Path):
    return open_path(folder).series[0]


def readingroom_volume(folder: Path) -> np.ndarray:
    series = readingroom_open(folder)
    volume = np.empty((series.frame_count, series.rows, series.columns), dtype=np.int32)
    for k, frame in enumerate(series.frames):
        volume[k] = modality_values(frame)
    return volume


def sitk_open(folder: Path) -> tuple[str, ...]:
    return sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder))


def sitk_volume(folder: Path) -> sitk.Image:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk_open(folder))
    return reader.Execute()


def timed(fn, *args, cpu: list[float] | None = None) -> float:
    """Wall-clock seconds of ``fn(*args)``; its CPU seconds are appended to ``cpu`` if given."""
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    del result
    if cpu is not None:
        cpu.append(elapsed_cpu)
    return elapsed


def check_same_volume(folder: Path) -> str:
    """Both readers must produce the same HU volume in the same order, or the race is meaningless."""
    ours = readingroom_volume(folder)
    theirs = sitk.GetArrayFromImage(sitk_volume(folder))
    if ours.shape != theirs.shape or not np.array_equal(ours, theirs.astype(ours.dtype)):
        raise SystemExit(f"{folder.name}: readingroom and SimpleITK volumes differ; fix that before timing")
    return f"identical HU volumes {ours.shape} (SimpleITK pixel type {theirs.dtype})"


def measure(folder: Path, rounds: int) -> Timings:
    check = check_same_volume(folder)  # also the warm-up: every file is now in the page cache
    console.print(f"  {folder.name}: {check}")
    t = Timings()
    for n in range(rounds):
        first_rr = n % 2 == 0  # alternate who goes first
        for who in ("rr", "sitk") if first_rr else ("sitk", "rr"):
            if who == "rr":
                t.rr_open.append(timed(readingroom_open, folder))
                t.rr_total.append(timed(readingroom_volume, folder, cpu=t.rr_cpu))
            else:
                t.sitk_open.append(timed(sitk_open, folder))
                t.sitk_total.append(timed(sitk_volume, folder, cpu=t.sitk_cpu))
        console.print(
            f"  round {n + 1}/{rounds}: readingroom open {t.rr_open[-1]:.3f} s, total {t.rr_total[-1]:.3f} s "
            f"(CPU {t.rr_cpu[-1]:.3f} s); SimpleITK open {t.sitk_open[-1]:.3f} s, total {t.sitk_total[-1]:.3f} s "
            f"(CPU {t.sitk_cpu[-1]:.3f} s)"
        )
    return t


def versions() -> dict[str, str]:
    out = {}
    for dist in ("readingroom", "pydicom", "pylibjpeg", "pylibjpeg-openjpeg", "python-gdcm", "SimpleITK", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    return out


def machine() -> str:
    load = _load()
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}); "
        f"load average at start {load}; SimpleITK default threads {sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()}"
    )


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def j2k_plugin() -> str:
    try:
        from pydicom.pixels.decoders.base import get_decoder

        decoder = get_decoder(pydicom.uid.JPEG2000Lossless)
        plugins = list(getattr(decoder, "_available", None) or decoder.available_plugins)  # _available keeps pydicom's order
        return f"pydicom's available JPEG 2000 plugins, in the order it tries them: {', '.join(plugins)}"
    except Exception:  # noqa: BLE001 - informational only
        return "pydicom JPEG 2000 plugin order unknown"


def med(values: list[float]) -> float:
    return statistics.median(values)


def rows_for(results: dict[str, Timings]) -> list[dict]:
    rows = []
    for name, t in results.items():
        goal = CASES[name][1]
        ratio = med(t.sitk_total) / med(t.rr_total)
        ratio_best = min(t.sitk_total) / min(t.rr_total)
        rows.append({
            "case": name,
            "goal": goal,
            "ratio": ratio,
            "ratio_best": ratio_best,
            "met": ratio >= goal,
            "rr_open": t.rr_open,
            "rr_total": t.rr_total,
            "sitk_open": t.sitk_open,
            "sitk_total": t.sitk_total,
            "open_ratio": med(t.sitk_open) / med(t.rr_open),
            "cpu_ratio": med(t.sitk_cpu) / med(t.rr_cpu),
            "rr_cpu": t.rr_cpu,
            "sitk_cpu": t.sitk_cpu,
            "open_met": med(t.rr_open) < OPEN_GOAL_S,
        })
    return rows


def print_table(rows: list[dict], rounds: int) -> None:
    table = Table(title=f"512x512x300 CT series, median (best) of {rounds} rounds; ratio = SimpleITK / readingroom (rr) on open+decode")
    for column in ("case", "ratio", "goal", "rr open", "rr open+decode",
                   "SITK open", "SITK open+decode", "open ratio", "CPU-time ratio", "open < 0.5 s"):
        table.add_column(column, justify="left" if column == "case" else "right")
    for r in rows:
        table.add_row(
            r["case"],
            f"[{'green' if r['met'] else 'red'}]{r['ratio']:.2f}[/] ({r['ratio_best']:.2f})",
            f">= {r['goal']:.1f}",
            _cell(r["rr_open"]), _cell(r["rr_total"]), _cell(r["sitk_open"]), _cell(r["sitk_total"]),
            f"{r['open_ratio']:.2f}",
            f"{r['cpu_ratio']:.2f}",
            "[green]yes[/]" if r["open_met"] else "[red]no[/]",
        )
    console.print(table)


def _cell(values: list[float]) -> str:
    return f"{med(values):.3f} s ({min(values):.3f})"


def markdown(rows: list[dict], rounds: int, command: str) -> str:
    lines = [
        BEGIN,
        f"Median of {rounds} rounds (best in brackets). Ratio = SimpleITK time / readingroom time: above 1 readingroom is faster. "
        "The goal is judged on wall-clock time; the CPU-time ratio (process CPU seconds, all threads) is less "
        "sensitive to other jobs on the machine and is given as a cross-check.",
        "",
        "| case | ratio, open + decode | goal | met? | same ratio on CPU time | open (headers only) < 0.5 s? |",
        "|---|---:|---:|:---:|---:|:---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | **{r['ratio']:.2f}** ({r['ratio_best']:.2f}) | >= {r['goal']:.1f} | "
            f"{'yes' if r['met'] else '**no**'} | {r['cpu_ratio']:.2f} | {'yes' if r['open_met'] else '**no**'} ({med(r['rr_open']):.3f} s) |"
        )
    lines += [
        "",
        "Absolute times, seconds, median (best):",
        "",
        "| case | readingroom open | readingroom open + decode | SimpleITK open | SimpleITK open + decode | CPU s, readingroom / SimpleITK |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {_cell(r['rr_open'])} | {_cell(r['rr_total'])} | {_cell(r['sitk_open'])} | {_cell(r['sitk_total'])} | "
            f"{med(r['rr_cpu']):.3f} / {med(r['sitk_cpu']):.3f} |"
        )
    lines += [
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_line}; load average at end {_load()}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        f"- JPEG 2000: {j2k_plugin()} (the first available one decodes)",
        f"- Command: `{command}`",
        END,
    ]
    return "\n".join(lines)


machine_line = ""


def main(argv: list[str] | None = None) -> int:
    global machine_line
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per case (default 3)")
    parser.add_argument("--only", choices=sorted(CASES), action="append", help="run only this case (repeatable)")
    parser.add_argument("--update-readme", action="store_true", help=f"write the figures into {SECTION!r} of benchmarks/README.md")
    args = parser.parse_args(argv)
    machine_line = machine()
    console.print(f"machine: {machine_line}")
    console.print("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    results = {}
    for name, (syntax, _goal) in CASES.items():
        if args.only and name not in args.only:
            continue
        folder = phantom_folder(name, syntax)
        console.print(f"[bold]{name}[/]")
        results[name] = measure(folder, args.rounds)
    rows = rows_for(results)
    print_table(rows, args.rounds)
    for r in rows:
        if not r["met"]:
            console.print(f"[red]goal missed[/]: {r['case']} ratio {r['ratio']:.2f} < {r['goal']:.1f}")
        if not r["open_met"]:
            console.print(f"[red]goal missed[/]: {r['case']} opening takes {med(r['rr_open']):.3f} s >= {OPEN_GOAL_S} s")
    if args.update_readme:
        command = ".venv/bin/python benchmarks/dicom_decode.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_figures(markdown(rows, args.rounds, command.strip()), BEGIN, END, SECTION)
        console.print(f"figures written into benchmarks/README.md ({SECTION!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

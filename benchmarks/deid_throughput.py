"""De-identification throughput: files/s on a 300-slice CT, readingroom vs dicom-anonymizer and deid.

The same 300 files (the 512x512 phantom of ``readingroom.dicom.synthetic`` with a
realistic identifying header added: names, IDs, dates, institution, physicians, a
nested sequence and a private block) are de-identified by each tool in turn, every
round, in this one process: readingroom with one worker and with one per core,
dicom-anonymizer's ``anonymize_dicom_file`` per file, and pydicom deid's
``replace_identifiers`` with its default recipe and private tags removed. Each tool
writes its outputs to its own folder, emptied before every run.

Ratios are what count (same machine, same files, same moment); absolute times follow.
Run: ``.venv/bin/python benchmarks/deid_throughput.py --rounds 3 [--update-readme]``
(needs the ``bench`` extra: ``pip install -e '.[test,bench]'``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

from harness import write_figures

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
SOURCE = DATA / "deid-ct300"
README = HERE / "README.md"
SECTION = "## De-identification throughput"
BEGIN = "<!-- deid_throughput.py figures: begin -->"
END = "<!-- deid_throughput.py figures: end -->"
SLICES = 300
KEY = Path(tempfile.gettempdir()) / "readingroom-bench" / "deid.key"  # never inside the project


def make_source() -> list[Path]:
    """The phantom with an identifying header, written once."""
    import pydicom
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from readingroom.dicom.synthetic import write_ct_phantom

    done = SOURCE / ".complete"
    if not done.exists():
        shutil.rmtree(SOURCE, ignore_errors=True)
        for path in write_ct_phantom(SOURCE, slices=SLICES, size=512):
            ds = pydicom.dcmread(path)
            ds.PatientName, ds.PatientID = "Benchmark^Patient^Q", "BM00012345"
            ds.PatientBirthDate, ds.PatientAddress = "19600101", "1 Benchmark Road"
            ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240102"
            ds.StudyTime = ds.SeriesTime = "101500"
            ds.AccessionNumber, ds.StudyID = "ACC000123", "ST123"
            ds.InstitutionName, ds.StationName = "Benchmark General Hospital", "CTSTATION1"
            ds.ReferringPhysicianName, ds.OperatorsName = "Referrer^Rita", "Operator^Otto"
            ds.DeviceSerialNumber = "SN0001"
            request = Dataset()
            request.RequestedProcedureID, request.AccessionNumber = "RP123", "ACC000123"
            ds.RequestAttributesSequence = Sequence([request])
            block = ds.private_block(0x0009, "BENCH VENDOR", create=True)
            block.add_new(0x01, "LO", "Benchmark^Patient")
            block.add_new(0x02, "DS", "1.5")
            ds.save_as(path, enforce_file_format=True)
        done.touch()
    return sorted(p for p in SOURCE.glob("*.dcm"))


def run_readingroom(files: list[Path], out: Path, workers: int) -> None:
    from readingroom.deid import deidentify

    report = deidentify(SOURCE, out, key_path=KEY, workers=workers)
    assert report.written == len(files) and not report.held_back, report.held_back


def run_dicom_anonymizer(files: list[Path], out: Path) -> None:
    from dicomanonymizer import anonymize_dicom_file

    for path in files:
        anonymize_dicom_file(str(path), str(out / path.name))


def run_deid(files: list[Path], out: Path) -> None:
    from deid.dicom import replace_identifiers

    replace_identifiers(dicom_files=[str(p) for p in files], save=True, output_folder=str(out), remove_private=True)


TOOLS = {
    "readingroom, 1 process": lambda files, out: run_readingroom(files, out, workers=1),
    "readingroom, 2 processes": lambda files, out: run_readingroom(files, out, workers=2),
    "dicom-anonymizer": run_dicom_anonymizer,
    "deid (pydicom)": run_deid,
}


def timed(name: str, files: list[Path]) -> tuple[float, float]:
    out = DATA / "deid-out" / name.split(",")[0].replace(" ", "-") / name.replace(" ", "").replace(",", "-")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cpu, wall = time.process_time(), time.perf_counter()
    TOOLS[name](files, out)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    written = sum(1 for p in out.rglob("*.dcm"))
    assert written == len(files), f"{name} wrote {written} of {len(files)} files"
    return wall, cpu


def versions() -> str:
    names = ("readingroom", "pydicom", "dicom-anonymizer", "deid", "numpy")
    return ", ".join(f"{n} {metadata.version(n)}" for n in names)


def machine() -> str:
    return (f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}, "
            f"Python {platform.python_version()}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def render(results: dict[str, list[tuple[float, float]]], rounds: int, machine_line: str) -> str:
    med = {name: statistics.median(w for w, _ in runs) for name, runs in results.items()}
    best = {name: min(w for w, _ in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in results.items()}
    base, base_cpu = med["dicom-anonymizer"], cpu["dicom-anonymizer"]
    single = base / med["readingroom, 1 process"]
    single_cpu = base_cpu / cpu["readingroom, 1 process"]
    single_best = best["dicom-anonymizer"] / best["readingroom, 1 process"]
    lines = [
        BEGIN,
        f"Median of {rounds} rounds, {SLICES} files of 512x512 CT, one process each (except the 2-process row). "
        "Ratio = dicom-anonymizer time / the tool's time: above 1 the tool is faster. Goal: readingroom >= 1.5x "
        f"dicom-anonymizer per core: **{single_cpu:.2f}x on CPU time, {single_best:.2f}x on best wall time, "
        f"{single:.2f}x on median wall time**. CPU time is the per-core measure least disturbed by other jobs; "
        "the median wall time is the most disturbed.",
        "",
        "| tool | files/s, median (best) | ratio, CPU time | ratio, best wall | ratio, median wall |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in TOOLS:
        cpu_ratio = "n/a (workers)" if name == "readingroom, 2 processes" else f"{base_cpu / cpu[name]:.2f}"
        lines.append(
            f"| {name} | {SLICES / med[name]:.1f} ({SLICES / best[name]:.1f}) | **{cpu_ratio}** | "
            f"{best['dicom-anonymizer'] / best[name]:.2f} | {base / med[name]:.2f} |"
        )
    lines += [
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_line} at start; {os.getloadavg()[0]:.2f} at end (other jobs shared it)",
        f"- Versions: {versions()}",
        f"- Command: `.venv/bin/python benchmarks/deid_throughput.py --rounds {rounds} --update-readme`",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("MESSAGELEVEL", "0")  # deid's logger: errors only
    files = make_source()
    machine_line = machine()
    print(f"machine: {machine_line}", file=sys.stderr)
    for name in TOOLS:  # warm-up: imports, page cache, the key file
        timed(name, files)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in TOOLS}
    for round_number in range(args.rounds):
        for name in TOOLS:
            results[name].append(timed(name, files))
            print(f"round {round_number + 1} {name}: {results[name][-1][0]:.2f} s", file=sys.stderr)
    block = render(results, args.rounds, machine_line)
    print(block)
    if args.update_readme:
        write_figures(block, BEGIN, END, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())

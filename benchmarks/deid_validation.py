"""De-identification validation: score and files/s of readingroom, dicom-anonymizer and deid on one corpus.

The corpus and answer key are ``readingroom.deid.validation``'s (a MIDI-B-style checker:
the share of the key's actions each tool's output shows), with the CT studies made
realistic in size (512x512 slices, ``--slices`` per study) beside the four images with
text burned in. Each tool de-identifies the same files in this one process, once per
round, into its own emptied folder: readingroom (one process, then one per core),
dicom-anonymizer's ``anonymize_dicom_file`` per file (its default rules) and pydicom
deid's ``replace_identifiers`` with its default recipe and private tags removed. Files/s
is given for the whole corpus and for the CT files alone (no burned-in text: no OCR),
because only readingroom reads pixels, and that costs seconds per image.

Run: ``.venv/bin/python benchmarks/deid_validation.py --rounds 3 [--update-readme]``
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
DATA = HERE / ".data" / "deid-validation"
README = HERE / "README.md"
SECTION = "## Issue 13: de-identification validation (MIDI-B-style score) and speed"
BEGIN = "<!-- deid_validation.py figures: begin -->"
END = "<!-- deid_validation.py figures: end -->"
KEY = Path(tempfile.gettempdir()) / "readingroom-bench" / "deid.key"  # never inside the project


def run_readingroom(source: Path, files: list[Path], out: Path, workers: int) -> None:
    from readingroom.deid import deidentify

    report = deidentify(source, out, key_path=KEY, workers=workers)
    assert report.written == len(files) and not report.held_back, report.held_back


def run_dicom_anonymizer(source: Path, files: list[Path], out: Path) -> None:
    from dicomanonymizer import anonymize_dicom_file

    for index, path in enumerate(files):  # names repeat across study folders: numbered outputs
        anonymize_dicom_file(str(path), str(out / f"{index:05d}.dcm"))


def run_deid(source: Path, files: list[Path], out: Path) -> None:
    from deid.dicom import replace_identifiers

    folders: dict[Path, list[str]] = {}
    for path in files:
        folders.setdefault(path.parent, []).append(str(path))
    for index, (_, paths) in enumerate(sorted(folders.items())):  # one output folder per source folder
        target = out / f"{index:03d}"
        target.mkdir()
        replace_identifiers(dicom_files=paths, save=True, output_folder=str(target), remove_private=True)


TOOLS = {
    "readingroom, 1 process": lambda source, files, out: run_readingroom(source, files, out, workers=1),
    "readingroom, 2 processes": lambda source, files, out: run_readingroom(source, files, out, workers=2),
    "dicom-anonymizer": run_dicom_anonymizer,
    "deid (pydicom)": run_deid,
}


def timed(name: str, source: Path, files: list[Path], out_root: Path) -> tuple[float, float]:
    """(wall, CPU) seconds; CPU time is this process's, so it means nothing for the 2-process row."""
    out = out_root / name.replace(" ", "").replace(",", "-").replace("(", "").replace(")", "")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cpu, wall = time.process_time(), time.perf_counter()
    TOOLS[name](source, files, out)
    return time.perf_counter() - wall, time.process_time() - cpu


def versions() -> str:
    names = ("readingroom", "pydicom", "dicom-anonymizer", "deid", "pytesseract")
    return ", ".join(f"{n} {metadata.version(n)}" for n in names)


def machine() -> str:
    return (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
            f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def render(scores: dict, whole: dict, ct_only: dict, counts: tuple[int, int], rounds: int, slices: int,
           machine_line: str, key_size: int) -> str:
    files, ct_files = counts
    med = {name: statistics.median(w for w, _ in runs) for name, runs in whole.items()}
    med_ct = {name: statistics.median(w for w, _ in runs) for name, runs in ct_only.items()}
    cpu_ct = {name: statistics.median(c for _, c in runs) for name, runs in ct_only.items()}
    base, base_ct, base_cpu = med["dicom-anonymizer"], med_ct["dicom-anonymizer"], cpu_ct["dicom-anonymizer"]
    lines = [
        BEGIN,
        (f"One corpus: {files} files ({ct_files} CT slices of 512x512 in three studies, {slices} per study at most, "
        f"and 4 images with a name and ID burned in), {key_size} actions in the answer key. Score = actions done "
        f"right. Files/s: median of {rounds} rounds of wall time; ratio = dicom-anonymizer time / the tool's time (above 1: "
        "faster); CPU time (this process's) is the per-core figure least disturbed by other jobs. "
        "Goals: readingroom 100 %, ahead of both on score, >= 1.5x dicom-anonymizer's files/s."),
        "",
        "| tool | score | files/s, whole corpus | ratio | files/s, CT only (no OCR) | ratio, wall | ratio, CPU time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in TOOLS:
        right, total = scores[name]
        lines.append(f"| {name} | **{100 * right / total:.1f} %** ({right}/{total}) | {files / med[name]:.1f} | "
                     f"{base / med[name]:.2f} | {ct_files / med_ct[name]:.1f} | {base_ct / med_ct[name]:.2f} | "
                     + ("n/a (workers)" if "2 processes" in name else f"**{base_cpu / cpu_ct[name]:.2f}**") + " |")
    lines += ["", "Actions done right, per kind of action:", "",
              "| tool | " + " | ".join(scores["by_action_names"]) + " |",
              "|---|" + "---:|" * len(scores["by_action_names"])]
    for name in TOOLS:
        by = scores["by_action"][name]
        lines.append(f"| {name} | " + " | ".join(f"{by[a][0]}/{by[a][1]}" for a in scores["by_action_names"]) + " |")
    lines += [
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine_line} at start; {os.getloadavg()[0]:.2f} at end (other jobs shared it)",
        f"- Versions: {versions()}",
        f"- Command: `.venv/bin/python benchmarks/deid_validation.py --rounds {rounds} --slices {slices} --update-readme`",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from readingroom.deid.validation import ACTIONS, build_corpus, score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--slices", type=int, default=100, help="CT slices of the first study (the others: 60 %%)")
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("MESSAGELEVEL", "0")  # deid's logger: errors only
    shutil.rmtree(DATA, ignore_errors=True)
    second = max(1, args.slices * 6 // 10)
    corpus = build_corpus(DATA / "source", ct_slices=(args.slices, second, second), ct_size=512)
    ct_source = DATA / "source-ct"  # the same CT files alone
    files = sorted(p for p in corpus.root.rglob("*.dcm"))
    ct_files = [p for p in files if "US" not in p.relative_to(corpus.root).parts]
    for path in ct_files:
        target = ct_source / path.relative_to(corpus.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    ct_list = sorted(ct_source.rglob("*.dcm"))
    machine_line = machine()
    print(f"machine: {machine_line}", file=sys.stderr)
    whole: dict[str, list[tuple[float, float]]] = {name: [] for name in TOOLS}
    ct_only: dict[str, list[tuple[float, float]]] = {name: [] for name in TOOLS}
    for name in TOOLS:  # warm-up: imports, page cache, the key file
        timed(name, ct_source, ct_list, DATA / "out-ct")
    for round_number in range(args.rounds):
        for name in TOOLS:
            whole[name].append(timed(name, corpus.root, files, DATA / "out"))
            ct_only[name].append(timed(name, ct_source, ct_list, DATA / "out-ct"))
            print(f"round {round_number + 1} {name}: {whole[name][-1][0]:.2f} s, CT only {ct_only[name][-1][0]:.2f} s",
                  file=sys.stderr)
    scores: dict = {"by_action": {}, "by_action_names": ACTIONS}
    for name in TOOLS:  # the last round's outputs
        out = DATA / "out" / name.replace(" ", "").replace(",", "-").replace("(", "").replace(")", "")
        result = score(corpus, out)
        scores[name] = (result.right, result.total)
        scores["by_action"][name] = {a: result.by_action.get(a, (0, 0)) for a in ACTIONS}
    block = render(scores, whole, ct_only, (len(files), len(ct_files)), args.rounds, args.slices, machine_line,
                   len(corpus.key))
    print(block)
    if args.update_readme:
        write_figures(block, BEGIN, END, SECTION)
    return 0


if __name__ == "__main__":
    sys.exit(main())

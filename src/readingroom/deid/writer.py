"""Where outputs go and how they land: names from pseudonyms and numbers, atomic writes.

Every file is written to a hidden temporary file beside its destination and renamed into
place, so a run that is interrupted leaves either the old file or the new one, never half
of one; temporaries left by a killed run are swept at the start of the next.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydicom import dcmwrite
from pydicom.dataset import Dataset

TEMP_SUFFIX = ".deid-tmp"
REPORT_NAME = "deid-report.json"


def output_relpath(pseudonym: str, study: str, series: str, instance_number: int | None, instance: str) -> Path:
    """``<patient pseudonym>/<study>/<series>/<instance number>-<instance>.dcm``."""
    name = f"{instance_number:05d}-{instance}.dcm" if instance_number is not None and instance_number >= 0 else f"{instance}.dcm"
    return Path(pseudonym) / study / series / name


def write_dataset(ds: Dataset, path: Path) -> None:
    """Write ``ds`` as a DICOM file at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda fp: dcmwrite(fp, ds, enforce_file_format=True))


def write_report(report: dict, path: Path) -> None:
    """Write the JSON report atomically."""
    data = (json.dumps(report, indent=2, sort_keys=False) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda fp: fp.write(data))


def sweep_temporaries(root: Path) -> int:
    """Delete temporaries a killed run left under ``root``; returns how many."""
    removed = 0
    if root.is_dir():
        for stale in root.rglob(f".*{TEMP_SUFFIX}"):
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")  # one writer per process: no clash
    try:
        with open(tmp, "wb") as fp:
            write(fp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

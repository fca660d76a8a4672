"""Outputs fail David Clunie's validator (dciodvfy, Debian's dicom3tools) no more than their inputs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest

from readingroom.deid import deidentify, keyed_uid, load_or_create_key
from tests.system_packages import require

PYDICOM_NAMES = ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm", "rtplan.dcm")
DATA_STORE_NAMES = ("US1_UNCR.dcm", "OBXXXX1A.dcm")  # ultrasound: OCR-masked and rewritten


def _errors(path: Path) -> list[str]:
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")]


@pytest.fixture(scope="module")
def validator():
    require("dicom3tools")
    require("tesseract")


def _compare(sources: list[Path], out: Path, key: bytes) -> list[tuple[str, int, int]]:
    by_uid = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in sources}
    outputs = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in out.rglob("*.dcm")}
    rows = []
    for uid, source in by_uid.items():
        output = outputs[keyed_uid(key, uid)]
        rows.append((source.name, len(_errors(source)), len(_errors(output))))
    return rows


def test_public_files(validator, tmp_path, pydicom_files, data_store_files):
    public = [pydicom_files / n for n in PYDICOM_NAMES] + [data_store_files / n for n in DATA_STORE_NAMES]
    src = tmp_path / "src"
    src.mkdir()
    for path in public:
        shutil.copy(path, src / path.name)
    key_path = tmp_path / "k" / "deid.key"
    report = deidentify(src, tmp_path / "out", key_path=key_path, workers=1)
    assert report.written == len(public), report.held_back
    rows = _compare(sorted(src.iterdir()), tmp_path / "out", load_or_create_key(key_path))
    worse = [(name, before, after) for name, before, after in rows if after > before]
    assert worse == []


def test_synthetic_corpus(validator, two_runs, corpus):
    run1, *_, key_path = two_runs
    rows = _compare(sorted(corpus.root.rglob("*.dcm")), run1, load_or_create_key(key_path))
    assert len(rows) == 33
    assert [(n, b, a) for n, b, a in rows if a > b] == []

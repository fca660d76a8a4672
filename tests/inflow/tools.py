"""Running the CLI as a user would, and looking for planted identifiers everywhere it left things."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from readingroom.inflow.keyobjects import KEY_OBJECT_SELECTION
from tests.conftest import FAKE_PHI

SRC = Path(__file__).resolve().parents[2] / "src"
CLI = [sys.executable, "-c", "from readingroom.cli import main; main()"]


def cli_env(**extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **extra)
    for name in ("READINGROOM_DICOMWEB_TOKEN", "READINGROOM_DICOMWEB_USER", "READINGROOM_DICOMWEB_PASSWORD"):
        env.pop(name, None) if name not in extra else None
    return env


def readingroom(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], check=False, capture_output=True, text=True, env=env or cli_env(), timeout=timeout)


def planted(extra: tuple[str, ...] = ()) -> list[str]:
    """The planted values as they could reappear: whole, and each part of a name."""
    values = {v for v in FAKE_PHI.values()} | {part for v in FAKE_PHI.values() for part in v.split("^")} | set(extra)
    return sorted(v for v in values if len(v) >= 4)


def identifiers_in(root: Path, *texts: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Every planted value found in a file's bytes, a path under ``root``, or the texts (logs, output)."""
    found = []
    for path in [root, *root.rglob("*")]:
        blob = path.read_bytes() if path.is_file() else b""
        where = str(path.relative_to(root.parent))
        found += [f"{value} in {where}" for value in planted(extra) if value.encode() in blob or value in where]
    found += [f"{value} in output" for text in texts for value in planted(extra) if value in text]
    return found


def key_object(study_folder: Path, description: str) -> tuple[Path, str]:
    """A KOS marking slice 4 of the last series, as a PACS's "send to teaching file" makes; its target UID."""
    last_series = max(study_folder.glob("series-*"))
    target = pydicom.dcmread(next(p for p in last_series.iterdir() if pydicom.dcmread(p).InstanceNumber == 4))
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = KEY_OBJECT_SELECTION, generate_uid()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = KEY_OBJECT_SELECTION, ds.SOPInstanceUID
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyInstanceUID", "AccessionNumber", "StudyDate"):
        setattr(ds, keyword, target.get(keyword))
    ds.SeriesInstanceUID, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = generate_uid(), "KO", 99, 1
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = [_code("113004", "For Teaching")]
    text = Dataset()
    text.RelationshipType, text.ValueType, text.TextValue = "CONTAINS", "TEXT", description
    text.ConceptNameCodeSequence = [_code("113012", "Key Object Description")]
    image = Dataset()
    image.RelationshipType, image.ValueType = "CONTAINS", "IMAGE"
    image.ReferencedSOPSequence = [_reference(target)]
    ds.ContentSequence = [text, image]
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedSOPSequence = target.SeriesInstanceUID, [_reference(target)]
    evidence = Dataset()
    evidence.StudyInstanceUID, evidence.ReferencedSeriesSequence = target.StudyInstanceUID, [series]
    ds.CurrentRequestedProcedureEvidenceSequence = [evidence]
    path = study_folder / "kos.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path, str(target.SOPInstanceUID)


def _code(value: str, meaning: str) -> Dataset:
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
    return code


def _reference(target) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = target.SOPClassUID, target.SOPInstanceUID
    return ref

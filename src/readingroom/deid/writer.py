"""Where outputs go and how they land: names from pseudonyms and numbers, atomic writes.

Every file is written to a hidden temporary file beside its destination and renamed into
place, so a run that is interrupted leaves either the old file or the new one, never half
of one; temporaries left by a killed run are swept at the start of the next.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from pydicom import dcmwrite
from pydicom.charset import default_encoding
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import write_data_element, write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian

TEMP_SUFFIX = ".deid-tmp"
REPORT_NAME = "deid-report.json"
_UNDEFINED = 0xFFFFFFFF
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})


def output_relpath(pseudonym: str, study: str, series: str, instance_number: int | None, instance: str) -> Path:
    """``<patient pseudonym>/<study>/<series>/<instance number>-<instance>.dcm``."""
    name = f"{instance_number:05d}-{instance}.dcm" if instance_number is not None and instance_number >= 0 else f"{instance}.dcm"
    return Path(pseudonym) / study / series / name


def write_dataset(ds: Dataset, path: Path) -> None:
    """Write ``ds`` as a DICOM file at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if _fast_path_applies(ds):
        _atomic(path, lambda fp: _write_explicit_le(fp, ds))
    else:
        _atomic(path, lambda fp: dcmwrite(fp, ds, enforce_file_format=True))


def _fast_path_applies(ds: Dataset) -> bool:
    """Explicit VR Little Endian in and out, same character set: raw elements can be copied."""
    meta = getattr(ds, "file_meta", None)
    return (
        meta is not None
        and meta.get("TransferSyntaxUID") == ExplicitVRLittleEndian
        and ds.original_encoding == (False, True)
        and ds.original_character_set == ds._character_set
    )


def _write_explicit_le(fp, ds: Dataset) -> None:
    """pydicom's writer, minus its per-element overhead for elements we never parsed.

    Unchanged raw elements are written as their original bytes (tag, VR, length,
    value); everything else goes through pydicom's own ``write_data_element``. This is
    what makes a run faster than pydicom alone: most of a header is never touched.
    """
    out = DicomFileLike(fp)
    out.is_little_endian, out.is_implicit_VR = True, False
    fp.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(out, ds.file_meta, enforce_standard=True)
    encoding = ds.get("SpecificCharacterSet", default_encoding)
    pack = struct.pack
    for tag in sorted(ds.keys()):
        if tag.element == 0 and tag.group > 6:  # retired group lengths (PS3.5 7.2), as pydicom does
            continue
        elem = ds.get_item(tag)
        if (
            isinstance(elem, RawDataElement)
            and elem.VR
            and elem.VR != "SQ"
            and not elem.is_implicit_VR
            and elem.is_little_endian
            and elem.value is not None
            and elem.length != _UNDEFINED
        ):
            vr = elem.VR.encode("ascii")
            if elem.VR in _LONG_VRS:
                fp.write(pack("<HH2sHL", tag >> 16, tag & 0xFFFF, vr, 0, len(elem.value)))
            else:
                fp.write(pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(elem.value)))
            fp.write(elem.value)
        else:
            write_data_element(out, ds[tag], encoding)


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

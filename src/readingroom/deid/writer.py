"""Where outputs go and how they land: names from pseudonyms and numbers, atomic writes.

Every file is written to a hidden temporary file beside its destination and renamed into
place, so a run that is interrupted leaves either the old file or the new one, never half
of one; temporaries left by a killed run are swept at the start of the next. One run at a
time writes into a destination (a lock file), so a second run cannot sweep the first
one's temporaries or interleave its report with the first one's files.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydicom import dcmwrite
from pydicom.charset import default_encoding
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import write_data_element, write_file_meta_info
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRLittleEndian
from pydicom.valuerep import PersonName

from readingroom.errors import InputError

TEMP_SUFFIX = ".deid-tmp"
REPORT_NAME = "deid-report.json"
LOCK_NAME = ".deid.lock"
_UNDEFINED = 0xFFFFFFFF
_SHORT_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "PN", "SH", "TM", "UI"})  # 2-byte lengths
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
    """Explicit VR Little Endian encoding in and out (native or encapsulated pixels), same
    character set: raw elements can be copied. Raw elements read without a VR are parsed
    and written by pydicom, so a file mislabelled as explicit VR still comes out right."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    return (
        syntax is not None
        and (syntax == ExplicitVRLittleEndian or (syntax.is_transfer_syntax and syntax.is_encapsulated))
        and not syntax.is_implicit_VR
        and syntax.is_little_endian
        and not syntax.is_deflated
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
    meta = _encode_file_meta(ds.file_meta)
    if meta is None:
        write_file_meta_info(out, ds.file_meta, enforce_standard=True)
    else:
        fp.write(meta)
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
            elem = ds[tag]
            value = _plain_text(elem)
            if value is None:
                write_data_element(out, elem, encoding)
            else:
                fp.write(pack("<HH2sH", tag >> 16, tag & 0xFFFF, elem.VR.encode("ascii"), len(value)) + value)


def write_report(report: dict, path: Path) -> None:
    """Write the JSON report atomically."""
    data = (json.dumps(report, indent=2, sort_keys=False) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda fp: fp.write(data))


@contextmanager
def destination_lock(dest: Path) -> Iterator[None]:
    """Hold ``dest`` for one run; another run into it at the same time is refused with one line.

    An advisory lock (flock) on a hidden file in ``dest``: the kernel drops it when the holder
    exits, even by kill -9, so a killed run never leaves the folder locked. The file is removed
    when the run ends; a run that locked a file since removed holds nothing and is refused too.
    """
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            raise InputError(f"{dest}: another `readingroom deid` run is writing into this folder; "
                             "wait for it to finish or choose another -o") from None
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            if created and not any(dest.iterdir()):  # bad input wrote nothing: leave no folder behind
                dest.rmdir()
    finally:
        os.close(fd)


def sweep_temporaries(root: Path) -> int:
    """Delete temporaries a killed run left under ``root``; returns how many."""
    removed = 0
    if root.is_dir():
        for stale in root.rglob(f".*{TEMP_SUFFIX}"):
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


def _plain_text(elem) -> bytes | None:
    """The encoded value of a short-text element whose text is ASCII, else None (pydicom writes it)."""
    if elem.VR not in _SHORT_TEXT_VRS:
        return None
    value = elem.value
    if value is None or value == "":
        return b""
    if isinstance(value, (str, PersonName)):
        text = str(value)
    elif isinstance(value, MultiValue) and all(isinstance(v, (str, PersonName)) for v in value):
        text = "\\".join(map(str, value))
    else:
        return None
    if not text.isascii():
        return None
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\0" if elem.VR == "UI" else b" "
    return data


def _encode_file_meta(meta) -> bytes | None:
    """The file meta group as pydicom writes it, for the plain meta we build; None otherwise."""
    body = bytearray(struct.pack("<HH2sHL", 0x0002, 0x0001, b"OB", 0, 2) + b"\x00\x01")
    for tag in sorted(meta.keys()):
        if tag in (0x00020000, 0x00020001):
            continue
        elem = meta[tag]
        if elem.VR not in ("UI", "SH") or not isinstance(elem.value, str) or not elem.value:
            return None
        value = elem.value.encode("ascii")
        if len(value) % 2:
            value += b"\0" if elem.VR == "UI" else b" "
        body += struct.pack("<HH2sH", 0x0002, tag & 0xFFFF, elem.VR.encode(), len(value)) + value
    return struct.pack("<HH2sHL", 0x0002, 0x0000, b"UL", 4, len(body)) + bytes(body)


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")  # one writer per process: no clash
    try:
        with open(tmp, "wb") as fp:
            write(fp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

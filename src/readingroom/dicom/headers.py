"""Read one file's header, and only its header: pixel data stays on disk until asked for.

Besides parsing, this is where a file is judged usable as an image: not DICOM,
no pixel data (SR, RT plan, waveform), or pixel data cut short are reported here,
from the header and the file size, without decoding anything.

Parsing takes a bounded time whatever the file holds: values larger than the source's
``defer_bytes`` are skipped (read from disk only if ever asked for), and a header that
needs more than ``max_header_bytes`` read (half a million tiny elements, say) is refused.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from readingroom.dicom.limits import MAX_HEADER_SIZE_ENV, InputLimits, human_size
from readingroom.dicom.sources import SourceFile
from readingroom.errors import InputError, LimitError, NotAnImageError

_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}  # Pixel Data, Float, Double Float
_UNDEFINED_LENGTH = 0xFFFFFFFF


@dataclass(frozen=True)
class Instance:
    """One DICOM file (SOP instance): where it lives and its header without pixels."""

    source: SourceFile
    header: Dataset
    pixel_offset: int | None = None  # where native Pixel Data's value starts, when known

    @property
    def label(self) -> str:
        return self.source.label

    @property
    def transfer_syntax(self) -> UID:
        return self.header.file_meta.TransferSyntaxUID

    @property
    def number_of_frames(self) -> int:
        return int(self.header.get("NumberOfFrames") or 1)


def read_instance(source: SourceFile) -> Instance:
    """Parse ``source``'s header; raise :class:`InputError` naming the file if unusable."""
    try:
        with source.open() as fp:
            header = _parse_header(fp, source.label, source.limits, source.local_path)
            pixel_offset = _check_pixel_data(fp, header, source.label)
        _check_image_pixel_module(header, source.label)
    except OSError as error:
        raise InputError(f"{source.label}: cannot read ({error.strerror or error})") from None
    return Instance(source=source, header=header, pixel_offset=pixel_offset)


def _parse_header(fp: BinaryIO, label: str, limits: InputLimits, local_path: Path | None) -> Dataset:
    try:
        header = dcmread(_ReadBudget(fp, limits.max_header_bytes, label), stop_before_pixels=True,
                         defer_size=limits.defer_bytes)
    except InvalidDicomError:
        raise InputError(f"{label}: not a DICOM file (no DICM preamble or file meta header)") from None
    except (EOFError, struct.error, ValueError, TypeError, KeyError, IndexError) as error:
        raise InputError(f"{label}: damaged DICOM header ({error}); the file is probably truncated") from None
    if "TransferSyntaxUID" not in header.get("file_meta", Dataset()):
        raise InputError(f"{label}: file meta header lacks (0002,0010) Transfer Syntax UID; re-export the file")
    # A deferred value is read again from the file's path when asked for, not through the closed budget
    # (a zip member has no path: its values over the defer size stay unread).
    header.buffer, header.fileobj_type, header.filename = None, open, local_path and str(local_path)
    return header


class _ReadBudget:
    """``fp`` for pydicom, refusing to read more than ``budget`` bytes; seeking past deferred values is free."""

    def __init__(self, fp: BinaryIO, budget: int, label: str) -> None:
        self._fp, self._left, self._budget, self._label = fp, budget, budget, label
        name = getattr(fp, "name", None)
        self.name = name if isinstance(name, str) else None

    def read(self, size: int = -1) -> bytes:
        data = self._fp.read(size if size is not None and size >= 0 else self._left + 1)
        self._left -= len(data)
        if self._left < 0:
            raise LimitError(self._label, f"its header holds more than {human_size(self._budget)} of values, so it "
                                          "is probably malformed: re-export it, or if it is genuine raise "
                                          f"{MAX_HEADER_SIZE_ENV} (e.g. {MAX_HEADER_SIZE_ENV}=32M)")
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fp.seek(offset, whence)

    def tell(self) -> int:
        return self._fp.tell()


def _check_pixel_data(fp: BinaryIO, header: Dataset, label: str) -> int | None:
    """Confirm a pixel data element follows the header and is as long as it must be.

    Returns the file offset of a native (uncompressed) Pixel Data value, so frames
    can later be read straight from there without parsing the header again.
    """
    ts = header.file_meta.TransferSyntaxUID
    if ts.is_deflated:  # the stream is inflated on the fly: the header is all we can judge
        if "Rows" not in header:
            raise NotAnImageError(f"{label}: {_kind(header)} has no pixel data; nothing to show")
        return None
    start = fp.tell()
    element_header = fp.read(12)
    if len(element_header) < 8 or _tag(element_header, ts) not in _PIXEL_TAGS:
        raise NotAnImageError(f"{label}: {_kind(header)} has no pixel data; nothing to show")
    length = _value_length(element_header, ts)
    header_size = 8 if ts.is_implicit_VR else 12
    available = _remaining(fp, start + header_size)
    if ts.is_compressed or length == _UNDEFINED_LENGTH:  # encapsulated: checked when decoded
        if available <= 0:
            raise InputError(f"{label}: truncated file: compressed pixel data is missing")
        return None
    if available < length:
        raise InputError(
            f"{label}: truncated file: pixel data needs {length} bytes but only {available} remain"
        )
    return start + header_size if _tag(element_header, ts) == 0x7FE00010 else None


_REQUIRED_PIXEL_ATTRIBUTES = (
    ("Rows", "(0028,0010)"),
    ("Columns", "(0028,0011)"),
    ("BitsAllocated", "(0028,0100)"),
    ("PhotometricInterpretation", "(0028,0004)"),
)


def _check_image_pixel_module(header: Dataset, label: str) -> None:
    """Pixel data is meaningless without the Image Pixel module's size and layout."""
    for keyword, tag in _REQUIRED_PIXEL_ATTRIBUTES:
        if header.get(keyword) in (None, ""):
            raise InputError(f"{label}: pixel data without {tag} {keyword}; the file is incomplete, re-export it")
    for keyword, tag in (("Rows", "(0028,0010)"), ("Columns", "(0028,0011)"), ("NumberOfFrames", "(0028,0008)")):
        value = header.get(keyword, 1)
        try:
            valid = int(value) >= 1
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise InputError(f"{label}: {tag} {keyword} must be a whole number >= 1, got {value!r}")


def _tag(element_header: bytes, ts: UID) -> int:
    fmt = ">HH" if not ts.is_little_endian else "<HH"
    group, element = struct.unpack(fmt, element_header[:4])
    return group << 16 | element


def _value_length(element_header: bytes, ts: UID) -> int:
    endian = "<" if ts.is_little_endian else ">"
    if ts.is_implicit_VR:
        return struct.unpack(endian + "L", element_header[4:8])[0]
    vr = element_header[4:6]
    if vr in (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN"):
        return struct.unpack(endian + "L", element_header[8:12])[0]
    return struct.unpack(endian + "H", element_header[6:8])[0]


def _remaining(fp: BinaryIO, offset: int) -> int:
    if isinstance(fp, io.BytesIO):
        return len(fp.getbuffer()) - offset
    fp.seek(0, io.SEEK_END)
    return fp.tell() - offset


def _kind(header: Dataset) -> str:
    """A short human name for what the object is, from its SOP class."""
    sop_class = header.get("SOPClassUID")
    name = getattr(sop_class, "name", "") if sop_class else ""
    modality = header.get("Modality")
    if name and modality:
        return f"{name} ({modality})"
    return name or (f"a {modality} object" if modality else "this DICOM object")

"""Decode one frame's stored pixel values, on demand.

pydicom does the decoding, with the pylibjpeg plugins (libjpeg, openjpeg, rle)
and GDCM behind it, so every transfer syntax pydicom knows is covered by
maintained codecs. YBR colour is converted to RGB here, as the viewer shows RGB.
What the C codecs print is captured (:mod:`.codec_output`): a failure is one line naming
the file and the problem, with the codecs' own words under ``--debug``.
"""

from __future__ import annotations

import numpy as np
from pydicom import dcmread
from pydicom.pixels import pixel_array

from readingroom.dicom.codec_output import codec_output
from readingroom.dicom.model import Frame
from readingroom.errors import DecodeError

ALL_CODECS_FAILED = "Unable to decode as exceptions were raised by all available plugins"  # pydicom's words
# Whose answer names the problem best when every codec refused: the codec made for the job first.
CODEC_PREFERENCE = ("pylibjpeg", "pyjpegls", "gdcm", "pillow")


def decode_frame(frame: Frame) -> np.ndarray:
    """Stored values of ``frame``: (rows, columns) or (rows, columns, 3) for colour.

    The streaming reader decodes just this frame without parsing the rest of the
    file; files it rejects (deflated, odd encapsulation that pydicom's dataset
    reader tolerates) are retried through a full parse before giving up.
    """
    direct = _read_native_monochrome(frame)
    if direct is not None:
        return direct
    with codec_output() as printed:
        try:
            return _decode_with_pydicom(frame)
        except Exception as error:  # codecs raise many types; all mean "cannot show this frame"
            failure = DecodeError(f"{frame.label}: cannot decode {frame.instance.transfer_syntax.name} pixel data: "
                                  f"{_reason(error)}")
            detail = printed.claim()
            if detail:
                failure.add_note(f"the codecs printed:\n{detail}")
            raise failure from error


def _decode_with_pydicom(frame: Frame) -> np.ndarray:
    instance = frame.instance
    if not instance.transfer_syntax.is_deflated:
        try:
            with instance.source.open() as fp:
                return pixel_array(fp, index=frame.index, as_rgb=True)
        except Exception:  # noqa: BLE001 - retried below, reported if that fails too
            pass
    with instance.source.open() as fp:
        return pixel_array(dcmread(fp), index=frame.index, as_rgb=True)


def _read_native_monochrome(frame: Frame) -> np.ndarray | None:
    """Uncompressed little-endian greyscale read straight from the known offset.

    The common case (CT, MR, CR from disk) needs no header parse per frame; any
    other layout returns None and goes through pydicom. Unused high bits are
    shifted out exactly as pydicom does (PS3.5 8.1.1).
    """
    instance, ds = frame.instance, frame.instance.header
    ts = instance.transfer_syntax
    path = instance.source.local_path
    bits = int(ds.get("BitsAllocated", 0))
    if (instance.pixel_offset is None or path is None or ts.is_compressed or ts.is_deflated
            or not ts.is_little_endian or bits not in (8, 16, 32) or int(ds.get("SamplesPerPixel", 1)) != 1
            or not str(ds.get("PhotometricInterpretation", "")).startswith("MONOCHROME")):
        return None
    dtype = np.dtype(f"<{'i' if int(ds.get('PixelRepresentation', 0)) else 'u'}{bits // 8}")
    rows, columns = int(ds.Rows), int(ds.Columns)
    count = rows * columns
    offset = instance.pixel_offset + frame.index * count * dtype.itemsize
    arr = np.fromfile(path, dtype=dtype, count=count, offset=offset)
    if arr.size != count:
        return None  # short read: let pydicom report it in its own words
    unused = bits - int(ds.get("BitsStored", bits))
    if unused > 0:
        np.left_shift(arr, unused, out=arr)
        np.right_shift(arr, unused, out=arr)
    return arr.reshape(rows, columns)


def _reason(error: Exception) -> str:
    """One line: pydicom's own, or when every codec refused the data, the answer of the one most telling."""
    lines = [" ".join(line.split()) for line in str(error).splitlines() if line.strip()] or [type(error).__name__]
    if lines[0].startswith(ALL_CODECS_FAILED):
        answers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        for codec in CODEC_PREFERENCE:
            if codec in answers:
                return f"{codec}: {answers[codec]} (no codec could read it; --debug shows each one's answer)"
    return lines[0]

"""Decode one frame's stored pixel values, on demand.

pydicom does the decoding, with the pylibjpeg plugins (libjpeg, openjpeg, rle)
and GDCM behind it, so every transfer syntax pydicom knows is covered by
maintained codecs. YBR colour is converted to RGB here, as the viewer shows RGB.
"""

from __future__ import annotations

import numpy as np
from pydicom import dcmread
from pydicom.pixels import pixel_array

from readingroom.dicom.model import Frame
from readingroom.errors import DecodeError


def decode_frame(frame: Frame) -> np.ndarray:
    """Stored values of ``frame``: (rows, columns) or (rows, columns, 3) for colour.

    The streaming reader decodes just this frame without parsing the rest of the
    file; files it rejects (deflated, odd encapsulation that pydicom's dataset
    reader tolerates) are retried through a full parse before giving up.
    """
    instance = frame.instance
    try:
        if not instance.transfer_syntax.is_deflated:
            try:
                with instance.source.open() as fp:
                    return pixel_array(fp, index=frame.index, as_rgb=True)
            except Exception:  # noqa: BLE001 - retried below, reported if that fails too
                pass
        with instance.source.open() as fp:
            return pixel_array(dcmread(fp), index=frame.index, as_rgb=True)
    except Exception as error:  # codecs raise many types; all mean "cannot show this frame"
        raise DecodeError(
            f"{frame.label}: cannot decode {instance.transfer_syntax.name} pixel data: {_first_line(error)}"
        ) from error


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.splitlines()[0].split())

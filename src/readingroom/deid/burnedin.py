"""Burned-in text: find it with OCR, mask it, check again, or hold the image back.

Checked are images flagged Burned In Annotation = YES and, flag or not, every image of a
kind where text in the pixels is common: ultrasound, secondary capture and workstation
screenshots. The decision reads only attributes that a header read without its pixels
still has, so `check` and the serving gate decide as the de-identification run does. For ultrasound, everything outside the declared Sequence of Ultrasound
Regions (PS3.3 C.8.5.5) is masked too, because that border is where scanners print the
patient's name. After masking the frames are read again; text still found means the
image is held back, never written unchecked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from readingroom.dicom.codec_output import codec_output

_SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
_ULTRASOUND = ("1.2.840.10008.5.1.4.1.1.6.", "1.2.840.10008.5.1.4.1.1.3.1")
_MARGIN = 2  # pixels around each word box, for anti-aliased edges
_MAX_ROUNDS = 3  # OCR passes per frame; text still found after the last one holds the image back


@dataclass(frozen=True)
class PixelOutcome:
    """What the burned-in text check did to one image."""

    checked: bool = False
    masked_words: int = 0
    masked_outside_regions: bool = False
    held_reason: str | None = None


def pixel_check_reason(ds: Dataset) -> str | None:
    """Why ``ds``'s pixels must be checked for text, or None when they need not be.

    Decided from modality, SOP class, conversion type and the flag only: never from whether
    Pixel Data was read, because a header read without pixels would then never be checked.
    """
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        return "flagged BurnedInAnnotation"
    sop_class = str(ds.get("SOPClassUID", ""))
    if ds.get("Modality") == "US" or sop_class.startswith(_ULTRASOUND):
        return "ultrasound"
    if sop_class.startswith(_SECONDARY_CAPTURE):
        return "secondary capture"
    if str(ds.get("ConversionType", "")).upper() == "WSD":
        return "workstation screenshot"
    return None


def clean_burned_in_text(ds: Dataset) -> PixelOutcome:
    """Mask text in ``ds``'s pixels in place; the outcome says what was done or why to hold back."""
    from readingroom.deid.ocr import REMAINS_CONFIDENCE, OcrUnavailable, find_text, looks_drawn

    try:
        frames = _frames(ds)
    except Exception as error:  # any decoder failure: we cannot look, so we cannot write
        return PixelOutcome(held_reason=(
            f"(7FE0,0010) Pixel Data cannot be decoded for the burned-in text check ({type(error).__name__}); "
            "convert it to an uncompressed transfer syntax (e.g. gdcmconv --raw) and rerun"
        ))
    photometric = str(ds.get("PhotometricInterpretation", ""))
    regions = _ultrasound_regions(ds, frames.shape[1], frames.shape[2])
    changed = False
    words = 0
    try:
        for index in range(frames.shape[0]):
            frame = frames[index]
            fill = _fill_value(frame, photometric)
            if regions is not None:
                outside = np.ones(frame.shape[:2], dtype=bool)
                for top, bottom, left, right in regions:
                    outside[top:bottom, left:right] = False
                if outside.any():
                    frame[outside] = fill
                    changed = True
            # Masking a word can expose a fainter one next to it: read again until clean.
            for _ in range(_MAX_ROUNDS):
                image = _for_ocr(frame, photometric)
                boxes = [b for b in find_text(image) if b.confidence >= REMAINS_CONFIDENCE or looks_drawn(image, b)]
                for box in boxes:
                    frame[max(0, box.top - _MARGIN): box.bottom + _MARGIN, max(0, box.left - _MARGIN): box.right + _MARGIN] = fill
                words += len(boxes)
                changed = changed or bool(boxes)
                if not boxes or not find_text(_for_ocr(frame, photometric), REMAINS_CONFIDENCE):
                    break
            else:
                return PixelOutcome(checked=True, masked_words=words, held_reason=(
                    "(7FE0,0010) Pixel Data: burned-in text remains after masking; leave the image out or mask it by hand"
                ))
    except OcrUnavailable as error:
        return PixelOutcome(held_reason=str(error))
    if changed:
        _store(ds, frames, photometric)
    ds.BurnedInAnnotation = "NO"
    return PixelOutcome(checked=True, masked_words=words, masked_outside_regions=regions is not None and changed)


def _frames(ds: Dataset) -> np.ndarray:
    """All frames as (frames, rows, columns[, samples]), a writable copy."""
    with codec_output() as printed:
        try:
            arr = np.array(ds.pixel_array, copy=True)
        except Exception:
            printed.claim()  # the C codec's complaint: the held-back reason says it in one line
            raise
    frames = int(ds.get("NumberOfFrames") or 1)
    samples = int(ds.get("SamplesPerPixel") or 1)
    if frames == 1 and arr.ndim == (2 if samples == 1 else 3):
        arr = arr[np.newaxis]
    return arr


def _photometric_after_decode(ds: Dataset, photometric: str) -> str:
    """pydicom converts YBR colour to RGB when it decodes; mono and palette stay as they are."""
    return "RGB" if photometric.startswith("YBR") else photometric


def _store(ds: Dataset, frames: np.ndarray, photometric: str) -> None:
    arr = frames[0] if frames.shape[0] == 1 and int(ds.get("NumberOfFrames") or 1) == 1 else frames
    ds.set_pixel_data(
        arr,
        photometric_interpretation=_photometric_after_decode(ds, photometric),
        bits_stored=int(ds.BitsStored),
        generate_instance_uid=False,
    )


def _fill_value(frame: np.ndarray, photometric: str):
    if photometric == "MONOCHROME1":
        return frame.max()
    if frame.ndim == 2:
        return frame.min()
    return 0


def _for_ocr(frame: np.ndarray, photometric: str) -> np.ndarray:
    """The frame with bright meaning bright: MONOCHROME1 is inverted."""
    return frame.max() - frame if photometric == "MONOCHROME1" else frame


def _ultrasound_regions(ds: Dataset, rows: int, columns: int) -> list[tuple[int, int, int, int]] | None:
    """(top, bottom, left, right) of each declared region, or None when none is declared."""
    regions = []
    for item in ds.get("SequenceOfUltrasoundRegions") or []:
        try:
            left, top = int(item.RegionLocationMinX0), int(item.RegionLocationMinY0)
            right, bottom = int(item.RegionLocationMaxX1), int(item.RegionLocationMaxY1)
        except (AttributeError, TypeError, ValueError):
            continue
        regions.append((max(0, top), min(rows, bottom + 1), max(0, left), min(columns, right + 1)))
    return regions or None

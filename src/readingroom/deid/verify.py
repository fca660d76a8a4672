"""Re-check a file that claims to be de-identified, without its source.

`readingroom check` runs this over every image of a case: the file must say it was
de-identified, carry no private attributes, nothing the Basic Profile removes or
empties, no identifier in the descriptions it keeps, and (where text is usually burned
in) no readable text left in the pixels of its sampled frames.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset

from readingroom.deid.actions import Action, resolve
from readingroom.deid.dataset import OLDEST_AGE, aggregate_age
from readingroom.deid.profile import load_basic_profile
from readingroom.deid.textscan import scan_text

BORDER_FRACTION = 15  # percent of the height (width) at each edge where scanners print text


def header_problems(ds: Dataset) -> list[str]:
    """What in the header contradicts de-identification; empty when clean."""
    problems = []
    if str(ds.get("PatientIdentityRemoved", "")).upper() != "YES":
        problems.append("(0012,0062) Patient Identity Removed is not YES: the file was not de-identified")
    _walk(ds, load_basic_profile(), problems)
    return problems


def _walk(ds: Dataset, profile, problems: list[str]) -> None:
    for element in ds:
        tag = int(element.tag)
        name = f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {keyword_for_tag(tag) or 'private attribute'}"
        if element.tag.is_private:
            problems.append(f"{name} is present; private attributes must be removed")
            continue
        action = resolve(tag, profile.action_for(tag), element.VR)
        empty = element.value in (None, "", b"") or (element.VR == "SQ" and len(element.value) == 0)
        if action is Action.REMOVE and element.VR != "SQ" and not empty:
            problems.append(f"{name} still has a value; the Basic Profile removes it")
        elif action is Action.EMPTY and not empty:
            problems.append(f"{name} still has a value; the Basic Profile empties it")
        elif action is Action.AGE and not empty and aggregate_age(str(element.value)) != str(element.value):
            problems.append(f"{name} is over 89 or not an age; give ages over 89 as {OLDEST_AGE}")
        elif action is Action.CLEAN and not empty and scan_text(str(element.value)):
            problems.append(f"{name} contains what looks like an identifier")
        if element.VR == "SQ":
            for item in element.value or []:
                _walk(item, profile, problems)


def pixel_problems(ds: Dataset, count: int, decode: Callable[[int], np.ndarray]) -> list[str]:
    """Readable text left in the sampled frames of an image of a kind where text is usually
    burned in. ``ds`` may be a header read without pixels; ``decode(i)`` gives frame ``i``
    (0-based) of ``count``. No OCR engine is a problem, never a pass."""
    from readingroom.deid.burnedin import pixel_check_reason
    from readingroom.deid.ocr import (
        REMAINS_CONFIDENCE,
        UNAVAILABLE,
        find_text,
        ocr_available,
    )

    reason = pixel_check_reason(ds)
    if reason is None or count == 0:
        return []
    if not ocr_available():
        return [UNAVAILABLE]
    frames = _Frames(decode)
    try:
        chosen = sampled_frames(count, frames)
        words = {index: len(find_text(frames(index), min_confidence=REMAINS_CONFIDENCE)) for index in chosen}
    except _Undecodable as error:  # we cannot look, so the image cannot pass
        return [(f"(7FE0,0010) Pixel Data cannot be decoded for the burned-in text check ({error}); "
                 "convert it to an uncompressed transfer syntax (e.g. gdcmconv --raw) and rerun")]
    return [f"frame {index + 1}: {n} readable word(s) of burned-in text ({reason}); mask them with `readingroom deid`"
            for index, n in words.items() if n]


class _Undecodable(Exception):
    """A frame the decoder could not give; the message is the decoder's error type."""


class _Frames:
    """``decode`` with any decoder failure (codecs raise many types) turned into one."""

    def __init__(self, decode: Callable[[int], np.ndarray]) -> None:
        self._decode = decode

    def __call__(self, index: int) -> np.ndarray:
        try:
            return self._decode(index)
        except Exception as error:  # every codec failure means the same here
            raise _Undecodable(type(error).__name__) from error


def sampled_frames(count: int, decode: Callable[[int], np.ndarray]) -> list[int]:
    """First, middle and last frame, plus every frame whose text-prone border differs from
    the frames already chosen: an overlay that changes mid-clip is read too. Frames are
    decoded one at a time, so a long clip is never held in memory whole."""
    chosen = sorted({0, count // 2, count - 1})
    seen = {_border_signature(decode(i)) for i in chosen}
    for index in range(count):
        if index in chosen:
            continue
        signature = _border_signature(decode(index))
        if signature not in seen:
            seen.add(signature)
            chosen.append(index)
    return sorted(chosen)


def _border_signature(frame: np.ndarray) -> bytes:
    """A digest of the bands where scanners print text: top and bottom rows, left and right columns."""
    rows, columns = frame.shape[:2]
    band_rows, band_columns = max(1, rows * BORDER_FRACTION // 100), max(1, columns * BORDER_FRACTION // 100)
    digest = hashlib.blake2b(digest_size=16)
    for band in (frame[:band_rows], frame[-band_rows:], frame[:, :band_columns], frame[:, -band_columns:]):
        digest.update(np.ascontiguousarray(band).tobytes())
    return digest.digest()

"""The display pipeline as small pure functions: modality LUT -> VOI -> presentation.

Each ``apply_*`` reads only its own module from ``ds`` (a frame-level dataset,
see :mod:`readingroom.dicom.frames`) and returns the input unchanged when that
module is absent, so the steps chain without checks at the call site.
Look-up tables (Modality LUT, VOI LUT and palette sequences) go through pydicom's
own implementations; the linear and sigmoid windows are written out here because
the browser viewer implements the same formulas and the two must agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi

from readingroom.errors import InputError

WINDOW_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


@dataclass(frozen=True)
class Window:
    """A VOI window (PS3.3 C.11.2.1.2): centre and width in modality units."""

    center: float
    width: float
    function: str = "LINEAR"
    name: str = ""

    def __post_init__(self) -> None:
        if self.function not in WINDOW_FUNCTIONS:
            raise InputError(f"(0028,1056) VOI LUT Function {self.function!r} is not one of {', '.join(WINDOW_FUNCTIONS)}")
        if self.function == "LINEAR" and not self.width >= 1:
            raise InputError(f"(0028,1051) Window Width must be >= 1 for LINEAR, got {self.width}")
        if self.function != "LINEAR" and not self.width > 0:
            raise InputError(f"(0028,1051) Window Width must be > 0 for {self.function}, got {self.width}")


def rescale(ds: Dataset) -> tuple[float, float]:
    """(slope, intercept) of the Modality LUT module; (1, 0) when absent."""
    slope, intercept = ds.get("RescaleSlope"), ds.get("RescaleIntercept")
    if slope in (None, "") or intercept in (None, ""):
        return 1.0, 0.0
    return float(slope), float(intercept)


def apply_modality(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Stored values to modality units (HU for CT), PS3.3 C.11.1.

    A Modality LUT Sequence goes through pydicom; a rescale gives float32 (int32
    when slope and intercept are whole numbers); neither returns ``arr`` itself.
    """
    if "ModalityLUTSequence" in ds:
        return apply_modality_lut(arr, ds)
    if "RescaleSlope" not in ds or "RescaleIntercept" not in ds:
        return arr
    slope, intercept = rescale(ds)
    if slope == 1 and intercept == 0:
        return arr
    whole = slope.is_integer() and intercept.is_integer()
    out = arr.astype(np.int32 if whole else np.float32)  # one new array, then in place
    if slope != 1:
        out *= out.dtype.type(slope)
    out += out.dtype.type(intercept)
    return out


def header_windows(ds: Dataset) -> list[Window]:
    """Every window the header offers (Window Center/Width may be multi-valued)."""
    centers, widths = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centers in (None, "") or widths in (None, ""):
        return []
    centers, widths = _as_list(centers), _as_list(widths)
    names = _as_list(ds.get("WindowCenterWidthExplanation") or [])
    function = str(ds.get("VOILUTFunction") or "LINEAR").upper()
    windows = []
    for i, (center, width) in enumerate(zip(centers, widths)):
        try:
            windows.append(Window(float(center), float(width), function, str(names[i]) if i < len(names) else ""))
        except (InputError, TypeError, ValueError):
            continue  # a broken header window is skipped; the automatic one takes over
    return windows


def apply_window(arr: np.ndarray, window: Window) -> np.ndarray:
    """Map modality values through ``window`` to uint8 display values (PS3.3 C.11.2.1.2)."""
    x = arr.astype(np.float64, copy=False)
    c, w = window.center, window.width
    if window.function == "SIGMOID":
        y = 1.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    elif window.function == "LINEAR_EXACT":
        y = np.clip((x - c) / w + 0.5, 0.0, 1.0)
    elif w == 1:  # the LINEAR formula degenerates to a step at c - 0.5
        y = (x > c - 0.5).astype(np.float64)
    else:
        y = np.clip((x - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0)
    return np.rint(y * 255.0).astype(np.uint8)


def apply_voi_lut_sequence(arr: np.ndarray, ds: Dataset, index: int = 0) -> np.ndarray:
    """A VOI LUT Sequence item mapped to uint8; ``arr`` unchanged when there is none."""
    if "VOILUTSequence" not in ds:
        return arr
    item = ds.VOILUTSequence[index]
    bits = int(item.LUTDescriptor[2])
    out = apply_voi(arr, ds, index=index).astype(np.float64)
    return np.rint(out * (255.0 / (2**bits - 1))).clip(0, 255).astype(np.uint8)


def apply_presentation(display: np.ndarray, ds: Dataset) -> np.ndarray:
    """Invert grey levels for MONOCHROME1 (or an INVERSE Presentation LUT Shape)."""
    monochrome1 = str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1"
    inverse = str(ds.get("PresentationLUTShape", "")).upper() == "INVERSE"
    if monochrome1 or (inverse and not monochrome1):
        return 255 - display
    return display


def auto_window(values: np.ndarray) -> Window:
    """A window spanning the 0.5th-99.5th percentiles, for images without one."""
    sample = values.ravel()
    if sample.size > 262_144:
        sample = sample[:: sample.size // 262_144]
    low, high = np.percentile(sample, [0.5, 99.5])
    if high <= low:
        low, high = float(sample.min()), float(sample.max())
    width = max(float(high - low), 1.0)
    return Window(center=float(low + high) / 2.0, width=width + 1.0, name="auto")


def to_display_color(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """Colour frames to uint8 RGB: palette colour through its LUT, RGB scaled to 8 bits."""
    if str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        bits = 16 if rgb.dtype.itemsize > 1 else 8
        return (rgb >> (bits - 8)).astype(np.uint8) if bits > 8 else rgb.astype(np.uint8)
    bits_stored = int(ds.get("BitsStored") or 8)
    if arr.dtype == np.uint8 or bits_stored <= 8:
        return arr.astype(np.uint8, copy=False)
    return (arr.astype(np.uint64) >> (bits_stored - 8)).astype(np.uint8)


def _as_list(value) -> list:
    if isinstance(value, (str, bytes, int, float)):
        return [value]
    return list(value)

"""One frame to display pixels, through the same pipeline the viewer uses.

Window choice, in order: what the caller asked for (a :class:`Window`, a
(centre, width) pair or a preset name); else the header's VOI LUT Sequence or
first header window; else an automatic percentile window.
"""

from __future__ import annotations

import numpy as np

from readingroom.dicom.decode import decode_frame
from readingroom.dicom.model import Frame
from readingroom.dicom.presets import find_preset
from readingroom.dicom.processing import (
    Window,
    apply_modality,
    apply_presentation,
    apply_voi_lut_sequence,
    apply_window,
    auto_window,
    header_windows,
    to_display_color,
)

WindowRequest = Window | tuple[float, float] | str | None


def as_window(request: WindowRequest, modality: str | None = None) -> Window | None:
    """Normalise what a user may pass as a window; None means "the image's own"."""
    if request is None or isinstance(request, Window):
        return request
    if isinstance(request, str):
        preset = find_preset(request, modality)
        return Window(preset.center, preset.width, name=preset.name)
    center, width = request
    return Window(float(center), float(width))


def modality_values(frame: Frame) -> np.ndarray:
    """The frame in modality units (HU for CT); colour frames are returned as decoded."""
    return apply_modality(decode_frame(frame), frame.dataset)


def render_frame(frame: Frame, window: WindowRequest = None) -> np.ndarray:
    """uint8 pixels ready to show: (rows, columns) grey or (rows, columns, 3) RGB."""
    return render_stored(decode_frame(frame), frame, window)


def render_stored(stored: np.ndarray, frame: Frame, window: WindowRequest = None) -> np.ndarray:
    """:func:`render_frame` for values already decoded, so callers that keep them decode once."""
    ds = frame.dataset
    if stored.ndim == 3 or str(ds.get("PhotometricInterpretation", "")) == "PALETTE COLOR":
        return to_display_color(stored, ds)
    chosen = as_window(window, str(ds.get("Modality", "")))
    if chosen is None and "VOILUTSequence" in ds:
        return apply_presentation(apply_voi_lut_sequence(stored, ds), ds)
    values = apply_modality(stored, ds)
    chosen = chosen or default_window(frame, values)
    return apply_presentation(apply_window(values, chosen), ds)


def default_window(frame: Frame, values: np.ndarray | None = None) -> Window:
    """The header's first window, else an automatic one from the frame's values."""
    windows = header_windows(frame.dataset)
    if windows:
        return windows[0]
    if values is None:
        values = modality_values(frame)
    return auto_window(values)

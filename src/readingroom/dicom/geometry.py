"""Where a frame is in the patient: position, orientation, pixel spacing, edge labels.

Reads the Image Plane module (PS3.3 C.7.6.2) and, for enhanced multi-frame
objects, the same values from the per-frame or shared functional groups
(PS3.3 C.7.6.16), so callers never care which kind of object they hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

# Patient axes (PS3.3 C.7.6.2.1.1): +x towards the patient's left, +y posterior, +z head.
_AXIS_LETTERS = (("R", "L"), ("A", "P"), ("F", "H"))
_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "H": "F", "F": "H"}


@dataclass(frozen=True)
class PixelSpacing:
    """Physical size of a pixel in mm, (row spacing, column spacing).

    ``detector_plane`` is True when only Imager Pixel Spacing was present: lengths
    are then at the detector, magnified relative to the patient (PS3.3 C.8.11.4).
    ``calibration`` names the attribute the values came from.
    """

    row: float
    column: float
    detector_plane: bool = False
    calibration: str = "PixelSpacing"


_CENTIMETRE = 3  # Physical Units X/Y Direction code for cm (PS3.3 C.8.5.5.1.15)
_TISSUE_2D = 1  # Region Spatial Format code for 2D tissue or flow


def functional_group_item(ds: Dataset, frame_index: int, sequence: str) -> Dataset | None:
    """The first item of ``sequence`` for a frame: per-frame group first, then shared."""
    for groups, index in (("PerFrameFunctionalGroupsSequence", frame_index), ("SharedFunctionalGroupsSequence", 0)):
        items = ds.get(groups)
        if items and index < len(items):
            inner = items[index].get(sequence)
            if inner:
                return inner[0]
    return None


def _frame_value(ds: Dataset, frame_index: int, sequence: str, keyword: str):
    item = functional_group_item(ds, frame_index, sequence)
    if item is not None and keyword in item:
        return item[keyword].value
    return _raw_decimal_strings(ds, keyword)


def _raw_decimal_strings(ds: Dataset, keyword: str):
    """A DS value still unparsed in ``ds``, split from its text; else pydicom's value.

    Opening a 300-slice series reads position and orientation from every file; letting
    pydicom build validated DSfloat objects for them was most of the assembly time.
    """
    element = ds.get_item(keyword) if keyword in ds else None
    raw = getattr(element, "value", None)
    if isinstance(raw, bytes) and getattr(element, "VR", None) in ("DS", None):
        try:
            return [float(part) for part in raw.split(b"\\")]
        except ValueError:
            pass  # padding or odd text: pydicom's own conversion decides
    return ds.get(keyword)


def image_position(ds: Dataset, frame_index: int = 0) -> np.ndarray | None:
    value = _frame_value(ds, frame_index, "PlanePositionSequence", "ImagePositionPatient")
    return _floats(value, 3)


def image_orientation(ds: Dataset, frame_index: int = 0) -> np.ndarray | None:
    value = _frame_value(ds, frame_index, "PlaneOrientationSequence", "ImageOrientationPatient")
    return _floats(value, 6)


def pixel_spacing(ds: Dataset, frame_index: int = 0) -> PixelSpacing | None:
    """Pixel Spacing; else Imager Pixel Spacing (flagged detector-plane); else the
    ultrasound regions' calibration when all 2-D regions agree; else None."""
    value = _floats(_frame_value(ds, frame_index, "PixelMeasuresSequence", "PixelSpacing"), 2)
    if value is not None and np.all(value > 0):
        return PixelSpacing(float(value[0]), float(value[1]))
    value = _floats(ds.get("ImagerPixelSpacing"), 2)
    if value is not None and np.all(value > 0):
        return PixelSpacing(float(value[0]), float(value[1]), detector_plane=True, calibration="ImagerPixelSpacing")
    return _ultrasound_spacing(ds)


def _ultrasound_spacing(ds: Dataset) -> PixelSpacing | None:
    calibrations = {
        (round(float(region.PhysicalDeltaY) * 10, 6), round(float(region.PhysicalDeltaX) * 10, 6))
        for region in ds.get("SequenceOfUltrasoundRegions") or []
        if region.get("RegionSpatialFormat") == _TISSUE_2D
        and region.get("PhysicalUnitsXDirection") == _CENTIMETRE
        and region.get("PhysicalUnitsYDirection") == _CENTIMETRE
        and region.get("PhysicalDeltaX") and region.get("PhysicalDeltaY")
    }
    if len(calibrations) != 1:
        return None
    row, column = calibrations.pop()
    return PixelSpacing(abs(row), abs(column), calibration="SequenceOfUltrasoundRegions")


def slice_normal(orientation: np.ndarray) -> np.ndarray:
    """Unit normal of the image plane: row direction x column direction."""
    normal = np.cross(orientation[:3], orientation[3:])
    norm = np.linalg.norm(normal)
    return normal / norm if norm else normal


def slice_positions(frames) -> list[float] | None:
    """Each frame's distance in mm along the first frame's slice normal, or None without geometry.

    What linked scrolling needs to keep two stacks at the same anatomy when their slice
    counts or spacings differ (a prior and a current study).
    """
    orientation = image_orientation(frames[0].dataset, frames[0].index) if frames else None
    if orientation is None or any(f.position is None for f in frames):
        return None
    normal = slice_normal(orientation)
    return [round(float(np.dot(f.position, normal)), 3) for f in frames]


def direction_label(vector: np.ndarray, threshold: float = 0.25) -> str:
    """Patient-axis letters for a direction, strongest first ("L", "LP", "HAR" ...)."""
    letters = []
    for axis in np.argsort(-np.abs(vector)):
        if abs(vector[axis]) >= threshold:
            letters.append(_AXIS_LETTERS[axis][int(vector[axis] > 0)])
    return "".join(letters)


def edge_labels(ds: Dataset, frame_index: int = 0) -> dict[str, str] | None:
    """Letters for the image edges {"left", "right", "top", "bottom"} as displayed.

    From Image Orientation (Patient) for cross-sectional images, else from Patient
    Orientation (0020,0020) for projection radiographs; None when neither is there.
    """
    orientation = image_orientation(ds, frame_index)
    if orientation is not None:
        row, column = orientation[:3], orientation[3:]
        right, bottom = direction_label(row), direction_label(column)
        left, top = direction_label(-row), direction_label(-column)
    else:
        values = ds.get("PatientOrientation")
        if not values or len(values) != 2 or not all(values):
            return None
        right, bottom = str(values[0]), str(values[1])
        left = "".join(_OPPOSITE.get(c, "") for c in right)
        top = "".join(_OPPOSITE.get(c, "") for c in bottom)
    if not (right and bottom):
        return None
    return {"left": left, "right": right, "top": top, "bottom": bottom}


def _floats(value, count: int) -> np.ndarray | None:
    """``count`` finite floats from a DS/FD value (single or multi-valued), else None."""
    if value is None:
        return None
    items = [value] if isinstance(value, (int, float, str)) else list(value)
    try:
        numbers = np.array([float(v) for v in items], dtype=float)
    except (TypeError, ValueError):
        return None
    return numbers if numbers.size == count and np.all(np.isfinite(numbers)) else None

"""Frame-level views of a header: fold enhanced multi-frame functional groups flat.

Enhanced objects (PS3.3 C.7.6.16) carry rescale, window, spacing and position per
frame inside functional group sequences; classic objects carry them at the top
level. :func:`frame_dataset` gives both the classic shape, so every later step
reads ``ds.RescaleSlope`` or ``ds.WindowCenter`` and nothing else.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from readingroom.dicom.geometry import functional_group_item

_GROUPS = ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence")
_FOLDED = {
    "PixelValueTransformationSequence": ("RescaleSlope", "RescaleIntercept", "RescaleType"),
    "FrameVOILUTSequence": ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation", "VOILUTFunction"),
    "PixelMeasuresSequence": ("PixelSpacing", "SliceThickness", "SpacingBetweenSlices"),
    "PlanePositionSequence": ("ImagePositionPatient",),
    "PlaneOrientationSequence": ("ImageOrientationPatient",),
}


def is_enhanced(header: Dataset) -> bool:
    return any(group in header for group in _GROUPS)


def frame_dataset(header: Dataset, index: int) -> Dataset:
    """Attributes that apply to frame ``index``; ``header`` itself for classic objects."""
    if not is_enhanced(header):
        return header
    flat = Dataset()
    flat.file_meta = header.file_meta
    for element in header:
        if element.keyword not in _GROUPS:
            flat.add(element)
    for sequence, keywords in _FOLDED.items():
        item = functional_group_item(header, index, sequence)
        if item is None:
            continue
        for keyword in keywords:
            if keyword in item:
                flat.add(item[keyword])
    return flat

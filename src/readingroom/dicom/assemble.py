"""Group instances into studies and displayable series, and order their frames.

Frames are ordered along the slice normal (from Image Orientation/Position
Patient) when every frame has a position, else by Instance Number. Duplicate
instances are dropped and gaps in the spacing are reported as series warnings,
because a teaching case with a missing slice should say so, not hide it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from readingroom.dicom.frames import frame_dataset, is_enhanced
from readingroom.dicom.geometry import edge_labels, image_orientation, image_position, pixel_spacing, slice_normal
from readingroom.dicom.headers import Instance
from readingroom.dicom.model import Frame, Series, Study

GAP_FACTOR = 1.5  # a step this many times the typical spacing is a gap
REGULAR_TOLERANCE = 0.05  # relative spacing variation still called regular (MPR-able)


def assemble(instances: list[Instance]) -> list[Study]:
    """Studies in acquisition order, each with its series in series-number order."""
    by_study: dict[str, list[Instance]] = defaultdict(list)
    for instance in instances:
        by_study[str(instance.header.get("StudyInstanceUID", "unknown"))].append(instance)
    studies = []
    for uid, members in by_study.items():
        first = members[0].header
        series = [_build_series(stack) for stack in _stacks(members)]
        series.sort(key=lambda s: (s.number is None, s.number or 0, s.description, s.uid))
        studies.append(Study(uid=uid, description=str(first.get("StudyDescription", "")), series=series))
    studies.sort(key=lambda s: _study_sort_key(by_study[s.uid][0]))
    return studies


def _study_sort_key(instance: Instance) -> tuple[str, str]:
    header = instance.header
    return (str(header.get("StudyDate", "")), str(header.get("StudyTime", "")))


def _stacks(instances: list[Instance]) -> list[list[Instance]]:
    """Split a study's instances into stacks: one per multi-frame object, else by series and geometry."""
    groups: dict[tuple, list[Instance]] = defaultdict(list)
    for instance in instances:
        header = instance.header
        series_uid = str(header.get("SeriesInstanceUID", ""))
        if instance.number_of_frames > 1 or is_enhanced(header):
            key = (series_uid, "object", str(header.get("SOPInstanceUID", instance.label)))
        else:
            orientation = image_orientation(header)
            plane = tuple(np.round(orientation, 2)) if orientation is not None else None
            key = (series_uid, "stack", int(header.Rows), int(header.Columns), plane)
        groups[key].append(instance)
    return list(groups.values())


def _build_series(instances: list[Instance]) -> Series:
    instances, duplicates = _drop_duplicates(instances)
    frames = [
        Frame(instance=instance, index=i, dataset=(ds := frame_dataset(instance.header, i)), position=_position(instance, ds))
        for instance in instances
        for i in range(instance.number_of_frames)
    ]
    frames, spacing, regular, warnings = _order(frames)
    if duplicates:
        warnings.insert(0, f"{duplicates} duplicate instance(s) ignored")
    first = frames[0].dataset
    number = first.get("SeriesNumber")
    return Series(
        uid=str(first.get("SeriesInstanceUID", "")),
        number=int(number) if number not in (None, "") else None,
        modality=str(first.get("Modality", "OT")),
        description=str(first.get("SeriesDescription", "")),
        body_part=str(first.get("BodyPartExamined", "")),
        frames=frames,
        pixel_spacing=pixel_spacing(first),
        slice_spacing=spacing,
        regular=regular,
        edge_labels=edge_labels(first),
        warnings=warnings,
    )


def _position(instance: Instance, ds) -> np.ndarray | None:
    """Per-frame position; classic multi-frame objects only give the first frame's."""
    if instance.number_of_frames > 1 and not is_enhanced(instance.header):
        return None
    return image_position(ds)


def _drop_duplicates(instances: list[Instance]) -> tuple[list[Instance], int]:
    seen: set[str] = set()
    kept = []
    for instance in instances:
        uid = str(instance.header.get("SOPInstanceUID", "")) or instance.label
        if uid in seen:
            continue
        seen.add(uid)
        kept.append(instance)
    return kept, len(instances) - len(kept)


def _order(frames: list[Frame]) -> tuple[list[Frame], float | None, bool, list[str]]:
    """Sort frames through the patient; return (frames, slice spacing, regular, warnings)."""
    orientation = image_orientation(frames[0].dataset)
    if len(frames) > 1 and orientation is not None and all(f.position is not None for f in frames):
        normal = slice_normal(orientation)
        distances = np.array([float(np.dot(f.position, normal)) for f in frames])
        order = np.argsort(distances, kind="stable")
        frames = [frames[i] for i in order]
        return (frames, *_spacing_report(distances[order]))
    if frames[0].instance.number_of_frames > 1:
        return frames, _declared_spacing(frames[0]), False, []
    frames.sort(key=lambda f: (_instance_number(f), f.index))
    return frames, _declared_spacing(frames[0]), False, _numbering_gaps(frames)


def _spacing_report(distances: np.ndarray) -> tuple[float | None, bool, list[str]]:
    steps = np.diff(distances)
    warnings = []
    coincident = int(np.sum(np.abs(steps) < 1e-3))
    if coincident:
        warnings.append(f"{coincident} slice(s) share a position with another slice")
    moving = steps[np.abs(steps) >= 1e-3]
    if moving.size == 0:
        return None, False, warnings
    typical = float(np.median(moving))
    for k, step in enumerate(steps):
        if step > GAP_FACTOR * typical:
            warnings.append(f"gap after slice {k + 1}: {step:.2f} mm where {typical:.2f} mm is typical")
    regular = coincident == 0 and moving.size >= 2 and bool(np.all(np.abs(moving - typical) <= REGULAR_TOLERANCE * typical))
    return typical, regular, warnings


def _declared_spacing(frame: Frame) -> float | None:
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = frame.dataset.get(keyword)
        if value not in (None, ""):
            try:
                return abs(float(value)) or None
            except (TypeError, ValueError):
                continue
    return None


def _instance_number(frame: Frame) -> int:
    value = frame.dataset.get("InstanceNumber")
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _numbering_gaps(frames: list[Frame]) -> list[str]:
    numbers = [_instance_number(f) for f in frames if f.dataset.get("InstanceNumber") not in (None, "")]
    if len(numbers) < 2:
        return []
    missing = sorted(set(range(min(numbers), max(numbers) + 1)) - set(numbers))
    if not missing:
        return []
    shown = ", ".join(str(n) for n in missing[:5]) + (" ..." if len(missing) > 5 else "")
    return [f"{len(missing)} instance number(s) missing: {shown}"]

"""What a study looks like once opened: studies hold series, series hold frames.

A :class:`Series` here is a displayable stack: every frame has the same size and
is ordered through the patient, so a viewer can scroll it. It is usually a DICOM
series, but a multi-frame object (an ultrasound clip, an enhanced CT) is a stack
of its own, and a DICOM series mixing image sizes or planes is split.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

from readingroom.dicom.geometry import PixelSpacing
from readingroom.dicom.headers import Instance


@dataclass(frozen=True)
class Frame:
    """One 2-D image: frame ``index`` of ``instance``, with its own frame-level attributes.

    ``dataset`` is a flat view of the attributes that apply to this frame (the
    header, with per-frame functional group values folded in for enhanced
    objects), so the pixel pipeline reads one dataset whatever the object type.
    """

    instance: Instance
    index: int
    dataset: Dataset
    position: np.ndarray | None = None

    @property
    def label(self) -> str:
        suffix = f" frame {self.index + 1}" if self.instance.number_of_frames > 1 else ""
        return f"{self.instance.label}{suffix}"


@dataclass
class Series:
    """An ordered stack of frames of one size, from one DICOM series."""

    uid: str
    number: int | None
    modality: str
    description: str
    body_part: str
    frames: list[Frame]
    pixel_spacing: PixelSpacing | None = None
    slice_spacing: float | None = None
    regular: bool = False
    edge_labels: dict[str, str] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def first(self) -> Dataset:
        return self.frames[0].dataset

    @property
    def frame_count(self) -> int:
        return len(self.frames)

    @property
    def rows(self) -> int:
        return int(self.first.Rows)

    @property
    def columns(self) -> int:
        return int(self.first.Columns)

    @property
    def photometric(self) -> str:
        return str(self.first.get("PhotometricInterpretation", ""))

    @property
    def is_color(self) -> bool:
        return int(self.first.get("SamplesPerPixel", 1)) > 1 or self.photometric == "PALETTE COLOR"

    @property
    def transfer_syntax(self) -> str:
        """The transfer syntax's short keyword, e.g. ``JPEG2000Lossless``."""
        uid = self.frames[0].instance.transfer_syntax
        return uid.keyword or str(uid)

    @property
    def instance_count(self) -> int:
        return len({id(f.instance) for f in self.frames})


@dataclass
class Study:
    uid: str
    description: str
    series: list[Series]


@dataclass(frozen=True)
class Problem:
    """A file that could not be used, and why (already phrased for the user)."""

    label: str
    message: str


@dataclass
class Collection:
    """Everything opened from one source: the usable studies and the unusable files."""

    studies: list[Study]
    problems: list[Problem]

    @property
    def series(self) -> list[Series]:
        return [s for study in self.studies for s in study.series]

"""`readingroom new`: a study becomes a case folder, de-identified on the way in.

The folder is built under a temporary name beside its destination and renamed
at the end, so an interrupted run leaves no half-made case behind.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from readingroom.case.check import DEID_REPORT, IMAGES, NOTEBOOK, PLACEHOLDER
from readingroom.case.metadata import round_age
from readingroom.case.template import case_notebook
from readingroom.errors import InputError

_REGIONS = {
    "HEAD": "head", "BRAIN": "head", "SKULL": "head", "NECK": "neck", "CSPINE": "spine", "TSPINE": "spine",
    "LSPINE": "spine", "SPINE": "spine", "CHEST": "chest", "THORAX": "chest", "LUNG": "chest", "HEART": "chest",
    "ABDOMEN": "abdomen", "LIVER": "abdomen", "PANCREAS": "abdomen", "KIDNEY": "abdomen", "PELVIS": "pelvis",
    "SHOULDER": "upper limb", "ARM": "upper limb", "ELBOW": "upper limb", "HAND": "upper limb", "WRIST": "upper limb",
    "HIP": "lower limb", "LEG": "lower limb", "KNEE": "lower limb", "ANKLE": "lower limb", "FOOT": "lower limb",
    "BREAST": "breast", "WHOLEBODY": "whole body",
}
_SEX = {"F": "female", "M": "male", "O": "other"}


@dataclass(frozen=True)
class NewCase:
    folder: Path
    series: int
    held_back: int


@dataclass(frozen=True)
class Filled:
    """What filling a case's images found: inputs held back, key images (SOP Instance UIDs as
    de-identified; the viewer starts on the first) and a presentation to pre-fill."""

    held_back: int
    key_images: frozenset[str] = frozenset()
    presentation: str | None = None


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not slug:
        raise InputError(f"title {title!r} gives no usable folder name; use letters or digits")
    return slug[:60].rstrip("-")


def new_case(title: str, source: Path, cases_dir: Path, *, key_path: Path | None = None,
             progress: Callable[[int, int], None] | None = None) -> NewCase:
    from readingroom.deid import deidentify
    from readingroom.deid.writer import REPORT_NAME
    from readingroom.dicom import list_source_files

    def fill(building: Path) -> Filled:
        report = deidentify(source, building / IMAGES, key_path=key_path, progress=progress)
        if report.written == 0:
            raise InputError(f"{source}: no image could be de-identified safely ({len(report.held_back)} held back); nothing to teach from")
        os.replace(building / IMAGES / REPORT_NAME, building / DEID_REPORT)
        return Filled(held_back=len(report.held_back))

    list_source_files(source)  # a missing source or an archive beyond the limits is refused before anything is made
    return build_case(title, cases_dir, fill)


def build_case(title: str, cases_dir: Path, fill: Callable[[Path], Filled], *, name: str | None = None) -> NewCase:
    """The one way a case folder comes to be, whatever brought its images.

    ``fill(building)`` puts de-identified ``images/`` and ``deid.json`` into the hidden
    folder being built and says what it found (:class:`Filled`); ``name`` is the
    folder's name when not the title's slug.
    """
    from readingroom.dicom import open_path

    folder = cases_dir / (name or slugify(title))
    if folder.exists():
        raise InputError(f"{folder} already exists; choose another title or remove that folder")
    cases_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=cases_dir))
    try:
        filled = fill(building)
        collection = open_path(building / IMAGES)
        metadata = derived_metadata(title, collection)
        if filled.presentation:
            metadata["presentation"] = filled.presentation
        start = _first_key_image(collection, filled.key_images)
        nbformat.write(case_notebook(metadata, len(collection.series), start=start), building / NOTEBOOK)
        _share(building)
        os.replace(building, folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return NewCase(folder=folder, series=len(collection.series), held_back=filled.held_back)


def _first_key_image(collection, key_images: frozenset[str]) -> tuple[int, int] | None:
    """(series index, frame index) of the first key image found, in the collection's order."""
    for series_index, series in enumerate(collection.series):
        for frame_index, frame in enumerate(series.frames):
            if str(frame.instance.header.get("SOPInstanceUID", "")) in key_images:
                return series_index, frame_index
    return None


def _share(folder: Path) -> None:
    """Cases are committed and served: give them the user's usual modes, not mkdtemp's 0700."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def derived_metadata(title: str, collection) -> dict:
    """What the de-identified headers tell; the rest is left for the educator as TODO."""
    first = collection.series[0].first
    modalities = sorted({s.modality for s in collection.series if s.modality})
    region = next((_REGIONS[s.body_part.upper()] for s in collection.series if s.body_part.upper() in _REGIONS), None)
    metadata = {
        "title": title,
        "presentation": f"{PLACEHOLDER}: one or two sentences of history, as the referrer gave it.",
        "sex": _SEX.get(str(first.get("PatientSex", "")).upper(), "unknown"),
        "modalities": [m if m in {"CT", "MR", "CR", "DX", "US", "NM", "PT", "XA", "RF", "MG"} else "OT" for m in modalities],
        "diagnosis": title,
        "certainty": "probable",
        "confirmation": f"{PLACEHOLDER}: how the diagnosis was established",
        "difficulty": "intermediate",
        "training_level": ["resident"],
        "objectives": [f"{PLACEHOLDER}: what a learner should be able to do after this case"],
        "tags": [],
        "authors": [{"name": f"{PLACEHOLDER}: your name"}],
        "licence": "CC-BY-4.0",
        "provenance": [{"images": "images/", "source": f"{PLACEHOLDER}: where the study came from", "licence": f"{PLACEHOLDER}"}],
        "minutes": 10,
    }
    age = _age(str(first.get("PatientAge", "")))
    if age:
        metadata["age"] = age
    if region:
        metadata["region"] = region
    return metadata


def _age(text: str) -> dict | None:
    """DICOM AS ("045Y", "006M", "010D") to the schema's age, adults rounded to 5 years."""
    match = re.fullmatch(r"(\d{3})([YMWD])", text.strip())
    if not match:
        return None
    value, unit = int(match.group(1)), match.group(2)
    if unit == "Y":
        return {"value": round_age(value), "unit": "years"}
    if unit == "W":
        return {"value": value * 7, "unit": "days"}
    return {"value": value, "unit": {"M": "months", "D": "days"}[unit]}

"""A validation of de-identification in the style of the MIDI-B challenge's checker.

A synthetic corpus (invented patients; nothing real) and an answer key of the action each
attribute, and each part of the pixels, should have undergone under the Basic Profile
with Retain Longitudinal Temporal Information (Modified Dates), Retain Patient
Characteristics, Clean Descriptors and Clean Pixel Data. Any tool's output folder is
scored as the share of those actions done right. The key is written by hand from PS3.15
and the corpus's own values, never from our engine, so it can disagree with it.

Outputs are matched to their sources by Instance Number (unique in the corpus, and an
attribute every profile keeps); a file a tool did not write fails all its actions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

RETAINED = "retained"
REMOVED = "removed"  # no word of the source value left: absent, empty or a dummy
EMPTIED = "emptied"  # present (Type 2) and empty
TEXT_CLEANED = "text cleaned"  # the identifying words gone, the clinical words kept
DATE_SHIFTED = "date shifted"  # by the one offset of the file's patient
UID_CHANGED = "uid changed"  # a valid new UID, the same one wherever the source UID was
PATIENT_ID_CONSISTENT = "patient id consistent"  # a new ID, one per patient
AGE_AGGREGATED = "age aggregated"  # over 89: 090Y
PIXELS_HIDDEN = "pixels hidden"  # burned-in text no longer bright where it was drawn
PIXELS_RETAINED = "pixels retained"  # the image itself unchanged where no text was
ACTIONS = (RETAINED, REMOVED, EMPTIED, TEXT_CLEANED, DATE_SHIFTED, UID_CHANGED, PATIENT_ID_CONSISTENT,
           AGE_AGGREGATED, PIXELS_HIDDEN, PIXELS_RETAINED)

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"
INSTITUTION = "Bramblewood Memorial Hospital"
VENDOR_VERSION_UID = "1.2.840.113619.6.475.20210614"  # Creator-Version UID: the scanner software's
_UID = re.compile(r"^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$")
_BRIGHT = 200
_MAX_SHIFT_DAYS = 100 * 366
_US_SHAPE = (256, 320)
_US_REGION = (60, 220, 40, 280)  # rows top:bottom, columns left:right of the declared ultrasound region
_CLEAR = (100, 180, 100, 220)  # inside the region, away from any text: must be retained


@dataclass(frozen=True)
class Patient:
    letter: str
    family: str
    given: str
    patient_id: str
    birth_date: str
    age: str
    address: str
    phone: str

    @property
    def name(self) -> str:
        return f"{self.family}^{self.given}"


PATIENTS = (
    Patient("A", "Quixtable", "Marguerite", "QX99817263", "19570614", "063Y", "4417 Wistful Vista Lane", "555-0143-2291"),
    Patient("B", "Zembrowski", "Thaddeus", "ZB44120987", "19280302", "093Y", "88 Quillfeather Road", "555-0177-8120"),
)


@dataclass(frozen=True)
class Expectation:
    """One action the key expects: in file ``number`` (its Instance Number), at ``path``."""

    number: int
    path: tuple  # keywords and item indexes; ("pixels", (top, bottom, left, right)) for pixel actions
    action: str
    source: object = None
    words: tuple[str, ...] = ()  # TEXT_CLEANED: the clinical words that must stay
    gone: tuple[str, ...] = ()  # TEXT_CLEANED: the identifying words that must not


@dataclass
class Corpus:
    root: Path
    key: list[Expectation]
    patient_of: dict[int, str]  # Instance Number -> patient letter
    pixels: dict[int, np.ndarray] = field(default_factory=dict)  # Instance Number -> source frame

    @property
    def files(self) -> int:
        return len(self.patient_of)


@dataclass(frozen=True)
class Score:
    right: int
    total: int
    by_action: dict[str, tuple[int, int]]  # action -> (right, total)
    wrong: list[tuple[int, str, str]]  # (file, path, action), no values

    @property
    def percent(self) -> float:
        return 100.0 * self.right / self.total if self.total else 0.0


# -- the corpus ---------------------------------------------------------------------------

def build_corpus(root: Path, ct_slices: tuple[int, int, int] = (3, 2, 2), ct_size: int = 32) -> Corpus:
    """Patient A: two CT studies 17 days apart and four images with text burned in (ultrasound
    flagged YES, flagged NO, flag absent; a workstation screenshot); patient B: one CT study.
    ``ct_slices`` and ``ct_size`` make the CT studies as large as a benchmark wants.

    Issue 13's holes are cases here: the ultrasound flagged NO or not at all, a description
    naming the institution of its own file and one naming that of another file of the same
    patient, and the Creator-Version UID that the profile table does not list.
    """
    root.mkdir(parents=True, exist_ok=True)
    key: list[Expectation] = []
    patient_of: dict[int, str] = {}
    pixels: dict[int, np.ndarray] = {}
    a, b = PATIENTS
    number = 0
    studies = ((a, "20210614", ct_slices[0], True), (a, "20210701", ct_slices[1], False), (b, "20190120", ct_slices[2], True))
    for study_index, (patient, date, slices, names_institution) in enumerate(studies):
        study, series, frame = (f"1.2.826.0.1.3680043.10.543.{study_index}.{n}" for n in (1, 2, 3))
        previous = None
        for index in range(slices):
            number += 1
            ds, expected = _ct_slice(patient, number, study, series, frame, date, index, previous, names_institution, ct_size)
            _save(ds, root / f"{patient.family}_{patient.patient_id}" / date / f"{patient.family}_{index:03d}.dcm")
            key += expected
            patient_of[number] = patient.letter
            pixels[number] = ds.pixel_array
            previous = ds.SOPInstanceUID
    us_study = "1.2.826.0.1.3680043.10.543.9.1"
    for kind in ("flag YES", "flag NO", "flag absent", "screenshot"):
        number += 1
        ds, frame, expected = _burned_in_image(a, number, us_study, kind)
        _save(ds, root / f"{a.family}_{a.patient_id}" / "US" / f"{a.family}_{kind.replace(' ', '_')}.dcm")
        key += expected
        patient_of[number] = a.letter
        pixels[number] = frame
    return Corpus(root=root, key=key, patient_of=patient_of, pixels=pixels)


def _patient(ds: Dataset, patient: Patient, number: int, study: str, date: str, institution: bool) -> list[Expectation]:
    """The identifying header every file carries, and what the key expects of it."""
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = "F" if patient.letter == "A" else "M"
    ds.PatientAge = patient.age
    ds.PatientWeight = "71.5"
    ds.PatientAddress = patient.address
    ds.PatientTelephoneNumbers = patient.phone
    ds.OtherPatientIDs = patient.patient_id + "-OLD"
    ds.AdditionalPatientHistory = f"Seen by Oyelaran at {INSTITUTION}"
    ds.StudyInstanceUID = study
    ds.StudyDate = date
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC" + patient.patient_id[-7:]
    ds.StudyID = "ST" + patient.patient_id[-5:]
    ds.ReferringPhysicianName = "Drummond^Percival"
    ds.NameOfPhysiciansReadingStudy = "Oyelaran^Bartholomew"
    ds.OperatorsName = "Fenwick^Tamsin"
    ds.StudyDescription = "CT CHEST WITH CONTRAST"
    if institution:
        ds.InstitutionName = INSTITUTION
    ds.StationName = "BRAMBLECT7"
    ds.DeviceSerialNumber = "SNQZ88231"
    ds.Manufacturer = "READINGROOM TEST"
    ds.InstanceNumber = number
    ds.ContentDate = date
    ds.InstanceCreationDate = date
    private = ds.private_block(0x0009, "ACME PHI CREATOR", create=True)
    private.add_new(0x01, "LO", patient.name)
    expect = [
        (("PatientName",), REMOVED, patient.name),
        (("PatientID",), PATIENT_ID_CONSISTENT, patient.patient_id),
        (("PatientBirthDate",), EMPTIED, patient.birth_date),
        (("PatientSex",), RETAINED, ds.PatientSex),
        (("PatientAge",), AGE_AGGREGATED if patient.age > "089Y" else RETAINED, patient.age),
        (("PatientWeight",), RETAINED, "71.5"),
        (("PatientAddress",), REMOVED, patient.address),
        (("PatientTelephoneNumbers",), REMOVED, patient.phone),
        (("OtherPatientIDs",), REMOVED, ds.OtherPatientIDs),
        (("AdditionalPatientHistory",), REMOVED, ds.AdditionalPatientHistory),
        (("StudyInstanceUID",), UID_CHANGED, study),
        (("StudyDate",), DATE_SHIFTED, date),
        (("StudyTime",), RETAINED, "101500"),
        (("AccessionNumber",), EMPTIED, ds.AccessionNumber),
        (("StudyID",), EMPTIED, ds.StudyID),
        (("ReferringPhysicianName",), EMPTIED, "Drummond^Percival"),
        (("NameOfPhysiciansReadingStudy",), REMOVED, "Oyelaran^Bartholomew"),
        (("OperatorsName",), REMOVED, "Fenwick^Tamsin"),
        (("StudyDescription",), RETAINED, "CT CHEST WITH CONTRAST"),
        (("StationName",), REMOVED, "BRAMBLECT7"),
        (("DeviceSerialNumber",), REMOVED, "SNQZ88231"),
        (("Manufacturer",), RETAINED, "READINGROOM TEST"),
        (("ContentDate",), DATE_SHIFTED, date),
        (("InstanceCreationDate",), DATE_SHIFTED, date),
        ((0x00090010,), REMOVED, "ACME PHI CREATOR"),
        ((0x00091001,), REMOVED, patient.name),
    ]
    if institution:
        expect.append((("InstitutionName",), REMOVED, INSTITUTION))
    return [Expectation(number, path, action, source) for path, action, source in expect]


def _ct_slice(patient, number, study, series, frame_uid, date, index, previous, institution, size) -> tuple[Dataset, list]:
    ds = Dataset()
    sop = f"{series}.{index + 1}"
    ds.file_meta = _meta(CT_IMAGE, sop)
    expected = _patient(ds, patient, number, study, date, institution)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = CT_IMAGE, sop, "CT"
    ds.SeriesInstanceUID, ds.FrameOfReferenceUID = series, frame_uid
    ds.SeriesNumber, ds.SeriesDate = 2, date
    ds.AcquisitionDateTime = f"{date}101630.250000"
    ds.CreatorVersionUID = VENDOR_VERSION_UID  # hole 3: not listed in the profile table
    ds.ProtocolName = "CHEST ROUTINE"
    ds.BodyPartExamined = "CHEST"
    ds.ImageComments = f"Follow-up for {patient.family}, compare prior"
    if institution:  # hole 2: the file's own institution in a kept description
        ds.PerformedProcedureStepDescription = f"CT HEAD WITHOUT CONTRAST at {INSTITUTION}"
        described = (("PerformedProcedureStepDescription",), ("CT", "HEAD", "WITHOUT", "CONTRAST"))
    else:  # hole 2: the institution of another file of the same patient
        ds.SeriesDescription = f"Chest series {INSTITUTION}"
        described = (("SeriesDescription",), ("Chest", "series"))
    place = tuple(INSTITUTION.split())
    content = Dataset()
    content.add_new(0x0040A124, "UI", f"{sop}.77")  # UID in a content item
    ds.ContentSequence = Sequence([content])
    if previous:  # a reference that must follow the referenced file's new UID
        reference = Dataset()
        reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = CT_IMAGE, previous
        ds.ReferencedImageSequence = Sequence([reference])
        shared = Dataset()  # an unlisted sequence, two levels down
        shared.ReferencedImageSequence = Sequence([reference])
        ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.InstanceNumber = number
    ds.ImagePositionPatient = ["0", "0", str(index)]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = np.random.default_rng(number).integers(0, 4000, (size, size), dtype=np.uint16).tobytes()
    expected += [Expectation(number, path, action, source) for path, action, source in (
        (("SOPInstanceUID",), UID_CHANGED, sop),
        (("SeriesInstanceUID",), UID_CHANGED, series),
        (("FrameOfReferenceUID",), UID_CHANGED, frame_uid),
        (("SOPClassUID",), RETAINED, CT_IMAGE),
        (("CreatorVersionUID",), UID_CHANGED, VENDOR_VERSION_UID),
        (("ContentSequence", 0, 0x0040A124), UID_CHANGED, f"{sop}.77"),
        (("SeriesDate",), DATE_SHIFTED, date),
        (("AcquisitionDateTime",), DATE_SHIFTED, ds.AcquisitionDateTime),
        (("ProtocolName",), RETAINED, "CHEST ROUTINE"),
        (("BodyPartExamined",), RETAINED, "CHEST"),
        (("pixels", (0, size, 0, size)), PIXELS_RETAINED, None),
    )]
    expected.append(Expectation(number, ("ImageComments",), TEXT_CLEANED, ds.ImageComments, ("Follow-up", "compare", "prior"),
                                (patient.family,)))
    path, words = described
    expected.append(Expectation(number, path, TEXT_CLEANED, ds[path[0]].value, words, place))
    if previous:
        expected += [
            Expectation(number, ("ReferencedImageSequence", 0, "ReferencedSOPInstanceUID"), UID_CHANGED, previous),
            Expectation(number, ("SharedFunctionalGroupsSequence", 0, "ReferencedImageSequence", 0,
                                 "ReferencedSOPInstanceUID"), UID_CHANGED, previous),
        ]
    return ds, expected


def _burned_in_image(patient: Patient, number: int, study: str, kind: str) -> tuple[Dataset, np.ndarray, list]:
    """An ultrasound (or a screenshot) with the patient's name and ID burned into its border."""
    from PIL import Image, ImageDraw, ImageFont

    rows, columns = _US_SHAPE
    top, bottom, left, right = _US_REGION
    speckle = np.random.default_rng(number).gamma(2.0, 25.0, (40, 60)).clip(0, 180).astype(np.uint8)
    frame = np.zeros((rows, columns, 3), dtype=np.uint8)
    frame[top:bottom, left:right] = np.asarray(Image.fromarray(speckle).resize((right - left, bottom - top)))[..., None]
    image = Image.fromarray(frame)
    draw, font = ImageDraw.Draw(image), ImageFont.load_default(size=24)
    boxes = []
    for xy, text in (((12, 14), patient.family.upper()), ((12, 226), patient.patient_id)):
        draw.text(xy, text, fill=(255, 255, 255), font=font)
        x0, y0, x1, y1 = draw.textbbox(xy, text, font=font)
        boxes.append((y0, y1, x0, x1))
    frame = np.asarray(image).copy()
    screenshot = kind == "screenshot"
    ds = Dataset()
    sop = f"{study}.{number}"
    ds.file_meta = _meta(SC_IMAGE if screenshot else US_IMAGE, sop)
    expected = _patient(ds, patient, number, study, "20210620", institution=True)
    ds.SOPClassUID, ds.SOPInstanceUID = (SC_IMAGE if screenshot else US_IMAGE), sop
    ds.Modality = "OT" if screenshot else "US"
    if screenshot:
        ds.ConversionType = "WSD"
    elif kind != "flag absent":
        ds.BurnedInAnnotation = kind.split()[-1]
    ds.SeriesInstanceUID, ds.SeriesNumber = f"{sop}.0", 5
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = frame.tobytes()
    if not screenshot:
        region = Dataset()
        region.RegionSpatialFormat, region.RegionDataType, region.RegionFlags = 1, 1, 0
        region.RegionLocationMinX0, region.RegionLocationMinY0 = left, top
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = right - 1, bottom - 1
        region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3
        region.PhysicalDeltaX = region.PhysicalDeltaY = 0.01
        ds.SequenceOfUltrasoundRegions = Sequence([region])
    expected += [Expectation(number, ("SOPInstanceUID",), UID_CHANGED, sop),
                 Expectation(number, ("pixels", _CLEAR), PIXELS_RETAINED)]
    expected += [Expectation(number, ("pixels", box), PIXELS_HIDDEN) for box in boxes]
    return ds, frame, expected


def _meta(sop_class: str, sop_instance: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def _save(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


# -- scoring ------------------------------------------------------------------------------

def score(corpus: Corpus, output: Path) -> Score:
    """How many of the key's actions the files under ``output`` show, per action and in all."""
    outputs = dict(_outputs(output))
    context = _Context.gather(corpus, outputs)
    results: list[tuple[Expectation, bool]] = []
    for expectation in corpus.key:
        ds = outputs.get(expectation.number)
        results.append((expectation, ds is not None and _right(expectation, ds, corpus, context)))
    by_action: dict[str, tuple[int, int]] = {}
    for action in ACTIONS:
        mine = [ok for e, ok in results if e.action == action]
        if mine:
            by_action[action] = (sum(mine), len(mine))
    wrong = [(e.number, _path_name(e.path), e.action) for e, ok in results if not ok]
    return Score(right=sum(ok for _, ok in results), total=len(results), by_action=by_action, wrong=wrong)


def _outputs(root: Path) -> Iterator[tuple[int, Dataset]]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            ds = dcmread(path)
        except (InvalidDicomError, OSError, ValueError, EOFError):
            continue
        try:
            yield int(ds.InstanceNumber), ds
        except (AttributeError, TypeError, ValueError):
            continue


@dataclass
class _Context:
    """What some actions are judged against across files: the patients' date offsets and IDs,
    and where each source UID went."""

    offsets: dict[str, set[int]]  # patient letter -> every offset their dates show (days)
    uid_map: dict[str, set[str]]  # source UID -> every value it became
    patient_ids: dict[str, set[str]]  # patient letter -> every Patient ID their files got

    @classmethod
    def gather(cls, corpus: Corpus, outputs: dict[int, Dataset]) -> _Context:
        offsets: dict[str, set[int]] = defaultdict(set)
        uid_map: dict[str, set[str]] = defaultdict(set)
        patient_ids: dict[str, set[str]] = defaultdict(set)
        for e in corpus.key:
            ds = outputs.get(e.number)
            if ds is None:
                continue
            value = _value(ds, e.path)
            if e.action == DATE_SHIFTED and (days := _days_between(e.source, value)) is not None:
                offsets[corpus.patient_of[e.number]].add(days)
            elif e.action == UID_CHANGED:
                uid_map[e.source].add(str(value) if value is not None else "")
            elif e.action == PATIENT_ID_CONSISTENT:
                patient_ids[corpus.patient_of[e.number]].add(str(value or ""))
        return cls(dict(offsets), uid_map, patient_ids)


def _right(e: Expectation, ds: Dataset, corpus: Corpus, context: _Context) -> bool:
    if e.path[0] == "pixels":
        return _pixels_right(e, ds, corpus.pixels[e.number])
    value = _value(ds, e.path)
    text = "" if value is None else str(value).strip()
    if e.action == RETAINED:
        return text == str(e.source)
    if e.action == REMOVED:
        return not any(word.lower() in text.lower() for word in _words(str(e.source)))
    if e.action == EMPTIED:
        return _present(ds, e.path) and text == ""
    if e.action == AGE_AGGREGATED:
        return text == "090Y"
    if e.action == TEXT_CLEANED:
        lowered = text.lower()
        return all(w.lower() in lowered for w in e.words) and not any(w.lower() in lowered for w in e.gone)
    if e.action == DATE_SHIFTED:
        # One offset for all the patient's dates (intervals stay true), the time of day kept, and
        # a shift rather than a fixed date put in its place (0001-01-01 is not a shifted 2021 date).
        days = _days_between(e.source, value)
        return days is not None and 0 < abs(days) <= _MAX_SHIFT_DAYS \
            and context.offsets.get(corpus.patient_of[e.number]) == {days} and str(value)[8:] == str(e.source)[8:]
    if e.action == UID_CHANGED:
        new = context.uid_map.get(e.source, set())
        return text != e.source and len(new) == 1 and bool(_UID.match(text)) and len(text) <= 64 \
            and not any(text in others for source, others in context.uid_map.items() if source != e.source)
    if e.action == PATIENT_ID_CONSISTENT:
        mine = context.patient_ids.get(corpus.patient_of[e.number], set())
        others = set().union(*(ids for p, ids in context.patient_ids.items() if p != corpus.patient_of[e.number]))
        return text not in ("", e.source) and mine == {text} and text not in others
    raise ValueError(f"unknown action {e.action!r}")


def _pixels_right(e: Expectation, ds: Dataset, before: np.ndarray) -> bool:
    try:
        after = ds.pixel_array
    except Exception:  # noqa: BLE001 - pixels a tool made undecodable are not retained or hidden
        return False
    if after.shape != before.shape:
        return False
    top, bottom, left, right = e.path[1]
    was, now = before[top:bottom, left:right], after[top:bottom, left:right]
    if e.action == PIXELS_RETAINED:
        return bool(np.all(was == now))
    text = (was.max(axis=-1) if was.ndim == 3 else was) >= _BRIGHT
    still = (now.max(axis=-1) if now.ndim == 3 else now) >= _BRIGHT
    return bool(text.any()) and float(np.mean(still[text])) < 0.05


def _value(ds: Dataset, path: tuple):
    node = ds
    for step in path:
        try:
            if isinstance(step, int) and isinstance(node, Sequence):
                node = node[step]
            else:
                element = node[step] if isinstance(step, int) else node.data_element(step)
                if element is None:
                    return None
                node = element.value
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _present(ds: Dataset, path: tuple) -> bool:
    parent = _value(ds, path[:-1]) if len(path) > 1 else ds
    return isinstance(parent, Dataset) and path[-1] in parent


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\W_]+", text) if len(w) >= 3]


def _days_between(source, value) -> int | None:
    try:
        before = dt.datetime.strptime(str(source)[:8], "%Y%m%d")
        after = dt.datetime.strptime(str(value)[:8], "%Y%m%d")
    except (TypeError, ValueError):
        return None
    return (after - before).days


def _path_name(path: tuple) -> str:
    if path[0] == "pixels":
        return f"pixels {path[1]}"
    return ">".join(f"({p >> 16:04X},{p & 0xFFFF:04X})" if isinstance(p, int) and p > 0xFFFF else str(p) for p in path)

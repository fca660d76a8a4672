"""Apply the profile to one dataset: every attribute, at every depth, plus the file meta.

This is the hot loop of a de-identification run, so it touches only elements the table
lists, private ones, sequences, dates and UIDs; every other element stays raw (unparsed)
and is written back byte for byte.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from readingroom.deid.actions import (
    CODE_MEANINGS,
    Action,
    OptionCode,
    basic_action,
    resolve,
    tag_vr,
)
from readingroom.deid.profile import BasicProfile
from readingroom.deid.pseudonyms import Pseudonymizer, patient_identity, shift_da, shift_dt
from readingroom.deid.textscan import PhiValues, clean_descriptor
from readingroom.deid.uids import UidMapper

PRIVATE = -1  # the report's key for "all private attributes"
OLDEST_AGE = "090Y"
_DAYS_PER_UNIT = {"D": 1, "W": 7, "M": 365.25 / 12, "Y": 365.25}
DUMMY_TEXT = "ANONYMIZED"
_NUMERIC_VRS = frozenset({"DS", "IS", "FL", "FD", "SL", "SS", "UL", "US", "SV", "UV"})
_BINARY_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN", "AT", "UR"})
METHOD = (
    "readingroom deid: PS3.15 E.1 Basic Profile",
    "Retain Longitudinal Temporal Info Modified Dates",
    "Retain Patient Characteristics",
    "Clean Descriptors",
)


@dataclass
class Context:
    """Per-file state: the patient's keyed values and what was done, by (tag, action)."""

    pseudonym: str
    offset: dt.timedelta
    phi: PhiValues
    counts: Counter = field(default_factory=Counter)
    cleaned: Counter = field(default_factory=Counter)  # (tag, rule): descriptors cleaned, and why


class DatasetDeidentifier:
    """The profile, keyed functions and options applied to datasets; holds no PHI itself."""

    def __init__(self, key: bytes, profile: BasicProfile) -> None:
        self.profile = profile
        self.pseudonyms = Pseudonymizer(key)
        self.uids = UidMapper(key)

    def context_for(self, ds: Dataset, patient_phi: PhiValues | None = None) -> Context:
        """``patient_phi``: the identifying values of all the patient's files in the run
        (they include this file's); without it, this file's own."""
        identity = patient_identity(ds)
        return Context(
            pseudonym=self.pseudonyms.pseudonym(identity),
            offset=self.pseudonyms.date_offset(identity),
            phi=patient_phi if patient_phi is not None else PhiValues.from_datasets([ds]),
        )

    def apply(self, ds: Dataset, ctx: Context, *, pixels_cleaned: bool = False) -> None:
        """De-identify ``ds`` in place (the caller owns it: the engine reads its own copy)."""
        self._clean(ds, ctx)
        for tag, keyword in ((0x00100010, "PatientName"), (0x00100020, "PatientID")):
            if tag not in ds:
                setattr(ds, keyword, ctx.pseudonym)
                ctx.counts[(tag, Action.PSEUDONYM)] += 1
        for raw in _marking_elements(pixels_cleaned):
            ds[raw.tag] = raw
        ds.file_meta = _new_file_meta(ds)
        ds.preamble = bytes(128)  # a preamble may hold anything (a TIFF header, a name): zeroed

    def _clean(self, ds: Dataset, ctx: Context) -> None:
        profile = self.profile
        for tag in list(ds.keys()):
            if tag.is_private:
                del ds[tag]
                ctx.counts[(PRIVATE, Action.REMOVE)] += 1
                continue
            code = profile.action_for(tag)
            if code is None:
                raw = ds.get_item(tag)
                vr = raw.VR or tag_vr(tag)
                if vr == "SQ":
                    self._recurse(ds[tag], ctx)
                elif vr in ("DA", "DT"):
                    self._shift(ds[tag], ctx)
                elif vr == "UI":  # unlisted UIDs are remapped too (the mapper keeps the well-known)
                    ctx.counts[(tag, Action.UID if self._remap(ds[tag]) else Action.KEEP)] += 1
                continue
            raw = ds.get_item(tag)  # parsed only when the action needs the old value
            vr = raw.VR if raw.VR not in (None, "UN") else (tag_vr(tag) or "UN")
            action = resolve(tag, code, vr)
            if action is Action.CLEAN:
                elem = ds[tag]
                if elem.value in (None, ""):
                    ctx.counts[(tag, Action.KEEP)] += 1
                    continue
                if self._clean_descriptor(elem, ctx):
                    continue
                action = basic_action(code)
            ctx.counts[(tag, action)] += 1
            if action is Action.KEEP:
                continue
            if action is Action.REMOVE:
                del ds[tag]
            elif action is Action.EMPTY:
                ds.add_new(tag, vr, Sequence() if vr == "SQ" else None)
            elif action is Action.DUMMY:
                ds.add_new(tag, vr, _dummy(vr))
            elif action is Action.PSEUDONYM:
                ds.add_new(tag, vr, ctx.pseudonym)
            elif action is Action.UID:
                self._remap(ds[tag])
            elif action is Action.SHIFT:
                self._shift(ds[tag], ctx)
            elif action is Action.AGE:
                elem = ds[tag]
                elem.value = aggregate_age(str(elem.value or ""))
            elif action is Action.RECURSE:
                self._recurse(ds[tag], ctx)

    def _remap(self, elem) -> bool:
        """Every UID of ``elem`` remapped; False when all were well-known and so kept."""
        new = _map_values(elem.value, self.uids)
        changed = new != elem.value
        elem.value = new
        return changed

    def _clean_descriptor(self, elem, ctx: Context) -> bool:
        """Keep a descriptor cleaned of its patient's identifying values; False when it cannot
        be kept (nothing left, or something left that looks like an identifier)."""
        values = list(elem.value) if isinstance(elem.value, (list, MultiValue)) else [elem.value]
        cleaned, rules = [], set()
        for value in values:
            text, found = clean_descriptor(str(value), ctx.phi)
            rules.update(found)
            cleaned.append(text)
        tag = int(elem.tag)
        for rule in rules:
            ctx.cleaned[(tag, rule)] += 1
        if any(text is None for text in cleaned):
            return False
        if rules:
            elem.value = cleaned if len(cleaned) > 1 else cleaned[0]
        ctx.counts[(tag, Action.CLEAN if rules else Action.KEEP)] += 1
        return True

    def _recurse(self, elem, ctx: Context) -> None:
        for item in elem.value or []:
            self._clean(item, ctx)

    def _shift(self, elem, ctx: Context) -> None:
        if elem.value in (None, ""):
            return
        shift = shift_da if elem.VR == "DA" else shift_dt
        values = elem.value if isinstance(elem.value, (list, MultiValue)) else [elem.value]
        shifted = [shift(str(v), ctx.offset) for v in values]
        if any(s is None for s in shifted):  # a partial date cannot be shifted and would leak
            elem.value = None
        else:
            elem.value = shifted if len(shifted) > 1 else shifted[0]


def aggregate_age(value: str) -> str | None:
    """An AS value with every age over 89 years given as ``090Y`` (HIPAA Safe Harbor, as the
    case metadata does); a value that is not an age string is emptied rather than kept."""
    value = value.strip()
    if not value:
        return value
    if len(value) != 4 or not value[:3].isdigit() or value[3] not in _DAYS_PER_UNIT:
        return None
    years = int(value[:3]) * _DAYS_PER_UNIT[value[3]] / 365.25
    return OLDEST_AGE if years >= 90 else value


def _map_values(value, mapper: UidMapper):
    if isinstance(value, (list, MultiValue)):
        return [mapper(v) for v in value]
    return mapper(value) if value else value


def _dummy(vr: str):
    if vr in _NUMERIC_VRS:
        return "0" if vr in ("DS", "IS") else 0
    if vr in _BINARY_VRS:
        return None
    if vr == "AS":
        return "000Y"
    if vr == "DA":
        return "19000101"
    if vr == "TM":
        return "000000"
    if vr == "DT":
        return "19000101000000"
    return DUMMY_TEXT


@lru_cache(maxsize=2)
def _marking_elements(pixels_cleaned: bool) -> tuple[RawDataElement, ...]:
    """Patient Identity Removed, Longitudinal Temporal Information Modified, De-identification
    Method and its Code Sequence: the same in every file, so encoded once, as raw elements
    (Explicit VR Little Endian) that the writer copies."""
    ds = Dataset()
    ds.PatientIdentityRemoved = "YES"
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    ds.DeidentificationMethod = list(METHOD)
    codes = [OptionCode.BASIC_PROFILE, OptionCode.RETAIN_LONGITUDINAL_MODIFIED_DATES,
             OptionCode.RETAIN_PATIENT_CHARACTERISTICS, OptionCode.CLEAN_DESCRIPTORS]
    if pixels_cleaned:
        codes.append(OptionCode.CLEAN_PIXEL_DATA)
    ds.DeidentificationMethodCodeSequence = Sequence([_code(c) for c in codes])
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_dataset(buffer, ds)
    parsed = read_dataset(DicomBytesIO(buffer.getvalue()), is_implicit_VR=False, is_little_endian=True)
    return tuple(parsed.get_item(tag) for tag in sorted(parsed.keys()))


def _code(code: OptionCode) -> Dataset:
    item = Dataset()
    item.add_new(0x00080100, "SH", code.value)  # Code Value
    item.add_new(0x00080102, "SH", "DCM")  # Coding Scheme Designator
    item.add_new(0x00080104, "LO", CODE_MEANINGS[code])  # Code Meaning
    return item


def _new_file_meta(ds: Dataset) -> FileMetaDataset:
    """A fresh file meta group: the source's AE titles and private information do not follow."""
    meta = FileMetaDataset()
    old = getattr(ds, "file_meta", None) or FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.get("SOPClassUID") or old.get("MediaStorageSOPClassUID")
    meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID") or old.get("MediaStorageSOPInstanceUID")
    if "TransferSyntaxUID" in old:
        meta.TransferSyntaxUID = old.TransferSyntaxUID
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "READINGROOM_DEID"
    return meta

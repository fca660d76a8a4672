"""Find PHI in free text: the case's own header values, and patterns that look like PHI.

Used on descriptors during de-identification (Clean Descriptors option) and on case
narratives by ``readingroom check``. A :class:`Finding` gives where and why, never the
matched text itself, so a caller cannot log PHI by printing findings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
PATTERNS: dict[str, re.Pattern[str]] = {
    "e-mail address": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "phone number": re.compile(
        r"(?<![\w.])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}(?![\w.])"
    ),
    "medical record number": re.compile(
        r"\b(?:MRN|MR#|MR\s*no\.?|medical\s+record(?:\s+(?:number|no\.?))?|patient\s+id|hospital\s+(?:number|no\.?))"
        r"\s*[:#]?\s*[A-Z0-9-]{3,}\b|(?<![\w.])\d{7,12}(?![\w.])",
        re.IGNORECASE,
    ),
    "street address": re.compile(
        r"\b\d{1,5}\s+(?:[A-Z][\w'-]*\.?\s+){1,4}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|"
        r"court|ct|way|place|pl|terrace|close|crescent|square|highway|hwy)\b\.?",
        re.IGNORECASE,
    ),
    "date": re.compile(
        r"\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})|"
        rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?,?\s+\d{{4}}|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
        r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))\b",
        re.IGNORECASE,
    ),
}

# Header attributes whose values are PHI wherever they turn up again in text.
_IDENTIFIER_KEYWORDS = (
    "PatientID", "OtherPatientIDs", "AccessionNumber", "StudyID", "IssuerOfPatientID",
    "MedicalRecordLocator", "PatientTelephoneNumbers", "DeviceSerialNumber", "StationName",
    "FillerOrderNumberImagingServiceRequest", "PlacerOrderNumberImagingServiceRequest",
    "RequestedProcedureID", "ScheduledProcedureStepID", "PerformedProcedureStepID", "AdmissionID",
    "ServiceEpisodeID", "PerformedStationName", "ScheduledStationName", "ReferringPhysicianTelephoneNumbers",
)
_PLACE_KEYWORDS = (
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "PatientAddress",
    "RegionOfResidence", "CountryOfResidence", "ReferringPhysicianAddress", "PersonAddress",
    "PerformedLocation", "ScheduledProcedureStepLocation", "CurrentPatientLocation",
)
_DATE_KEYWORDS = ("PatientBirthDate", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
_IDENTIFIER_TAGS = frozenset(tag_for_keyword(k) for k in _IDENTIFIER_KEYWORDS)
_PLACE_TAGS = frozenset(tag_for_keyword(k) for k in _PLACE_KEYWORDS)
_DATE_TAGS = frozenset(tag_for_keyword(k) for k in _DATE_KEYWORDS)
_MIN_PART = 2  # name parts shorter than this ("J") would match everywhere
# Values that stand for "no value": a source already anonymized says ANONYMIZED, and
# finding that word again is no leak.
PLACEHOLDERS = frozenset({"anonymized", "anonymised", "anonymous", "anon", "removed", "unknown", "none", "n/a",
                          "na", "null", "nil", "not available", "deidentified", "de-identified"})


@dataclass(frozen=True)
class Finding:
    """Possible PHI at ``text[start:end]``; ``rule`` says why (no PHI in it)."""

    start: int
    end: int
    rule: str


@dataclass(frozen=True)
class PhiValues:
    """PHI values taken from a case's own source headers, to look for in its text."""

    names: frozenset[str] = frozenset()  # whole names and their parts
    identifiers: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()  # YYYYMMDD

    @classmethod
    def from_datasets(cls, datasets: Iterable[Dataset]) -> PhiValues:
        """Collect from every header given, nested sequences and every PN included."""
        from readingroom.deid.walk import iter_elements, text_values

        names: set[str] = set()
        identifiers: set[str] = set()
        places: set[str] = set()
        dates: set[str] = set()
        for ds in datasets:
            for owner, tag, vr, elem in iter_elements(ds):
                if vr == "PN":
                    for value in text_values(owner, elem):
                        names.update(_name_parts(value))
                elif tag in _IDENTIFIER_TAGS:
                    identifiers.update(v for v in text_values(owner, elem) if len(v) >= 3)
                elif tag in _PLACE_TAGS:
                    places.update(v for v in text_values(owner, elem) if len(v) >= 3)
                elif tag in _DATE_TAGS:
                    dates.update(v for v in text_values(owner, elem) if len(v) == 8)
        keep = lambda values: frozenset(v for v in values if v.strip() and v.strip().lower() not in PLACEHOLDERS)  # noqa: E731
        return cls(keep(names), keep(identifiers), keep(places), frozenset(dates))

    @classmethod
    def union(cls, values: Iterable[PhiValues]) -> PhiValues:
        """Every value of every one given: one patient's values over all their files."""
        values = list(values)
        return cls(*(frozenset().union(*(getattr(v, part) for v in values))
                     for part in ("names", "identifiers", "places", "dates")))

    def at_least(self, length: int) -> PhiValues:
        """Only values of ``length`` characters or more: short name parts match too much in headers."""
        keep = lambda values: frozenset(v for v in values if len(v) >= length)  # noqa: E731
        return PhiValues(keep(self.names), keep(self.identifiers), keep(self.places), self.dates)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike]) -> PhiValues:
        """Collect from the headers of DICOM files (pixels are not read)."""
        from pydicom import dcmread
        from pydicom.errors import InvalidDicomError

        from readingroom.errors import InputError

        datasets = []
        for path in paths:
            try:
                datasets.append(dcmread(path, stop_before_pixels=True))
            except (InvalidDicomError, OSError) as error:
                raise InputError(f"{path}: cannot read its DICOM header for the PHI check ({type(error).__name__})") from None
        return cls.from_datasets(datasets)

    def is_empty(self) -> bool:
        return not (self.names or self.identifiers or self.places or self.dates)

    @property
    def _matchers(self) -> list[tuple[str, re.Pattern[str]]]:
        return _compile(self.names, self.identifiers, self.places, self.dates)

    def scan(self, text: str) -> list[Finding]:
        """Findings for this case's own values in ``text``."""
        return [Finding(m.start(), m.end(), rule) for rule, pattern in self._matchers for m in pattern.finditer(text)]


@lru_cache(maxsize=64)  # the files of one series share their values: compile once
def _compile(names, identifiers, places, dates) -> list[tuple[str, re.Pattern[str]]]:
    matchers = []
    for rule, values in (("name from the headers", names), ("identifier from the headers", identifiers),
                         ("place from the headers", places)):
        patterns = [p for p in (_flexible(v) for v in sorted(values, key=len, reverse=True)) if p.strip()]
        if patterns:
            alternatives = "|".join(patterns)
            matchers.append((rule, re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)))
    if dates:
        forms = sorted({form for d in dates for form in date_forms(d)}, key=len, reverse=True)
        alternatives = "|".join(re.escape(f) for f in forms)
        matchers.append(("date from the headers", re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)))
    return matchers


def scan_text(text: str, phi: PhiValues | None = None) -> list[Finding]:
    """Every span of ``text`` that is, or looks like, PHI, in text order.

    ``phi`` adds the case's own header values (see :meth:`PhiValues.from_datasets`).
    """
    findings = phi.scan(text) if phi is not None else []
    for rule, pattern in PATTERNS.items():
        findings.extend(Finding(m.start(), m.end(), rule) for m in pattern.finditer(text))
    return sorted(set(findings), key=lambda f: (f.start, f.end, f.rule))


def clean_descriptor(text: str, phi: PhiValues) -> tuple[str | None, list[str]]:
    """``text`` without the identifying values of its patient's headers, and the rules that
    matched (no values). The text is None when what is left is empty or still looks like an
    identifier (a date, a number, an address), so the profile's own action applies instead."""
    own = phi.scan(text)
    kept = text
    for finding in sorted(own, key=lambda f: f.start, reverse=True):
        kept = kept[:finding.start] + " " + kept[finding.end:]
    if own:
        kept = re.sub(r"\s+([,;:.])", r"\1", re.sub(r"\s{2,}", " ", kept)).strip(" ,;:/^-")
    shapes = scan_text(kept) if kept else []
    rules = sorted({f.rule for f in own + shapes})
    return (kept if kept and not shapes else None), rules


def date_forms(yyyymmdd: str) -> set[str]:
    """The ways people write a date: 20240315, 2024-03-15, 15/03/2024, 03/15/2024, 15 Mar 2024, ..."""
    y, m, d = yyyymmdd[:4], yyyymmdd[4:6], yyyymmdd[6:8]
    if not (y.isdigit() and m.isdigit() and d.isdigit()) or not 1 <= int(m) <= 12:
        return {yyyymmdd}
    month = ("January February March April May June July August September October November "
             "December").split()[int(m) - 1]
    di, mi = str(int(d)), str(int(m))
    forms = {yyyymmdd, f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}"}
    for dd, mm in ((d, m), (di, mi)):
        for sep in "/-.":
            forms |= {f"{dd}{sep}{mm}{sep}{y}", f"{mm}{sep}{dd}{sep}{y}", f"{dd}{sep}{mm}{sep}{y[2:]}", f"{mm}{sep}{dd}{sep}{y[2:]}"}
    for name in (month, month[:3]):
        forms |= {f"{di} {name} {y}", f"{name} {di}, {y}", f"{name} {di} {y}", f"{d} {name} {y}"}
    return forms


def _flexible(value: str) -> str:
    """A value as a pattern of its words, where any run of spaces, ^ or punctuation between
    them matches any other ("Cedar Hollow Clinic" matches "CEDAR^HOLLOW-CLINIC")."""
    parts = [re.escape(p) for p in re.split(r"[\W_]+", value.strip()) if p]
    return r"[\W_]+".join(parts) or re.escape(value)


def _name_parts(value) -> set[str]:
    text = str(value).strip()
    if not text:
        return set()
    parts = {text.replace("^", " ").strip()}
    try:
        pn = value if isinstance(value, PersonName) else PersonName(text)
        components = [pn.family_name, pn.given_name, pn.middle_name]
    except Exception:  # an unparseable name still yields its words
        components = []
    words = set(components) | set(re.split(r"[\s^,=]+", text))
    parts.update(w.strip() for w in words if w and len(w.strip(". ")) >= _MIN_PART)
    return {p for p in parts if p}

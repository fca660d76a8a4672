"""Where a study is: a DICOMweb study or series URL, or a ``dicom://`` address for C-GET.

Parsing fails at the boundary with the form expected, so a mistyped URL never reaches
the network. Messages never repeat the URL: its UIDs identify a patient's study.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from readingroom.errors import InputError

DEFAULT_DIMSE_PORT = 104
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")
_AET = re.compile(r"[\x20-\x7e]{1,16}")
_DICOMWEB_FORM = "http(s)://HOST/…/studies/<StudyInstanceUID>[/series/<SeriesInstanceUID>]"
_DIMSE_FORM = "dicom://AET@HOST:PORT/<StudyInstanceUID>[/<SeriesInstanceUID>]"


@dataclass(frozen=True)
class DicomWebStudy:
    """A study (or one series of it) behind a DICOMweb service root."""

    root: str
    study: str
    series: str | None = None

    @property
    def where(self) -> str:
        """The host and port, for messages (never the path, which holds UIDs)."""
        return urlsplit(self.root).netloc.rpartition("@")[2]


@dataclass(frozen=True)
class DimseStudy:
    """A study (or one series of it) on a DICOM node reached by association."""

    aet: str
    host: str
    port: int
    study: str
    series: str | None = None

    @property
    def where(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


def is_remote(text: str) -> bool:
    """Whether ``--from`` names a network location rather than a path."""
    return bool(re.match(r"(?i)(https?|dicom)://", text))


def parse_location(text: str) -> DicomWebStudy | DimseStudy:
    scheme = text.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        return _dicomweb(text)
    if scheme == "dicom":
        return _dimse(text)
    raise InputError(f"--from: not a study location; give {_DICOMWEB_FORM} or {_DIMSE_FORM}")


def _dicomweb(text: str) -> DicomWebStudy:
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise InputError("put no credentials in the URL (they would stay in your shell history); "
                         "use --token-file, READINGROOM_DICOMWEB_TOKEN or ~/.netrc")
    match = re.fullmatch(r"(?P<root>.*?)/studies/(?P<study>[^/]+)(?:/series/(?P<series>[^/]+))?/?", parts.path)
    if not parts.hostname or not match:
        raise InputError(f"--from: not a DICOMweb study URL; expected {_DICOMWEB_FORM}")
    study, series = _uid(match["study"], "study"), match["series"] and _uid(match["series"], "series")
    root = f"{parts.scheme}://{parts.netloc}{match['root']}"
    return DicomWebStudy(root=root, study=study, series=series)


def _dimse(text: str) -> DimseStudy:
    parts = urlsplit(text)
    aet = unquote(parts.username or "")
    if not aet or not _AET.fullmatch(aet) or not parts.hostname:
        raise InputError(f"--from: name the PACS's AE title (1-16 characters) and host; expected {_DIMSE_FORM}")
    try:
        port = parts.port or DEFAULT_DIMSE_PORT
    except ValueError:
        raise InputError(f"--from: the port must be a number from 1 to 65535; expected {_DIMSE_FORM}") from None
    uids = [p for p in parts.path.split("/") if p]
    if not 1 <= len(uids) <= 2:
        raise InputError(f"--from: give the study UID and optionally one series UID; expected {_DIMSE_FORM}")
    series = _uid(uids[1], "series") if len(uids) == 2 else None
    return DimseStudy(aet=aet, host=parts.hostname, port=port, study=_uid(uids[0], "study"), series=series)


def _uid(text: str, what: str) -> str:
    text = unquote(text)
    if len(text) > 64 or not _UID.fullmatch(text):
        raise InputError(f"--from: the {what} part is not a UID (digits and dots, at most 64 characters)")
    return text

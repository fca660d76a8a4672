"""Keyed patient pseudonyms and per-patient date offsets.

A patient is whoever the source's Patient ID (with its issuer) names; without an ID, the
name and birth date. The pseudonym and the date offset both come from an HMAC of that
identity, so one patient gets one pseudonym and one offset in every file and every run
with the same key, and intervals between their studies stay true.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from pydicom.dataset import Dataset

PSEUDONYM_PREFIX = "RR"
MIN_SHIFT_DAYS = 365  # at least a year back: a shifted date never looks like the real one
MAX_SHIFT_DAYS = 3650


def patient_identity(ds: Dataset) -> str:
    """The string that names the patient of ``ds`` for keying (never written anywhere)."""
    patient_id = str(ds.get("PatientID") or "").strip()
    if patient_id:
        return "id:" + patient_id + "|" + str(ds.get("IssuerOfPatientID") or "").strip()
    return "name:" + str(ds.get("PatientName") or "").strip() + "|" + str(ds.get("PatientBirthDate") or "").strip()


class Pseudonymizer:
    """Pseudonyms and date shifts for patients under one key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _digest(self, purpose: str, value: str) -> bytes:
        return hmac.new(self._key, f"{purpose}:{value}".encode("utf-8", "replace"), hashlib.sha256).digest()

    def pseudonym(self, identity: str) -> str:
        """``RR`` and 10 hex digits: fits Patient ID (LO) and a folder name."""
        return PSEUDONYM_PREFIX + self._digest("patient", identity).hex()[:10].upper()

    def short_name(self, purpose: str, value: str) -> str:
        """An 8-hex-digit keyed name for studies, series and instances in output paths."""
        return self._digest(purpose, value).hex()[:8]

    def date_offset(self, identity: str) -> dt.timedelta:
        """The patient's shift: between 1 and 10 years back, in whole days."""
        span = MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1
        days = MIN_SHIFT_DAYS + int.from_bytes(self._digest("dates", identity)[:8], "big") % span
        return dt.timedelta(days=-days)


def shift_da(value: str, offset: dt.timedelta) -> str | None:
    """Shift a DA value (YYYYMMDD); None when it is not a full date and cannot be shifted."""
    value = value.strip()
    if len(value) == 10 and value[4] == "." and value[7] == ".":  # ACR-NEMA YYYY.MM.DD
        value = value.replace(".", "")
    try:
        date = dt.datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        return None
    shifted = date + offset
    if shifted.year < 1:
        return None
    return shifted.strftime("%Y%m%d")


def shift_dt(value: str, offset: dt.timedelta) -> str | None:
    """Shift the date part of a DT value, keeping time and UTC offset; None if no full date."""
    value = value.strip()
    date = shift_da(value[:8], offset) if len(value) >= 8 else None
    return None if date is None else date + value[8:]

"""Keyed, one-way UID remapping: same key and UID in, same valid UID out, in any file or run.

Output UIDs are ``2.25.<integer>`` where the integer is a UUID built from an HMAC of the
input (RFC 9562 version 8, "custom"), which is what the 2.25 root (ISO/IEC 9834-8) asks
for. They are at most 44 characters and, being an integer's decimal form, have no
leading zeros. Without the key the mapping can be neither reversed nor recomputed.

Every UID is remapped, wherever it is and whether or not the profile table lists its
attribute, except the well-known UIDs below: they name a kind of thing (a SOP class, an
encoding, a terminology, a template's context group, a standard atlas's frame of
reference), never a patient, study, device or site, and readers need them unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from pydicom._uid_dict import UID_dictionary

UID_ROOT = "2.25"
MAX_UID_LENGTH = 64
_CACHE_LIMIT = 65536
# Kinds of UID in the DICOM UID registry (PS3.6 Table A-1) that identify nothing.
WELL_KNOWN_KINDS = frozenset({
    "SOP Class", "Meta SOP Class", "Transfer Syntax", "Coding Scheme", "DICOM UIDs as a Coding Scheme",
    "Well-known frame of reference", "Synchronization Frame of Reference", "Application Context Name",
})
CONTEXT_GROUP_ROOT = "1.2.840.10008.6.1."  # Context Group UIDs (PS3.16 Annex A), one per CID
# Coding scheme UIDs of the external terminologies DICOM uses most (PS3.16 Table 8-1).
EXTERNAL_CODING_SCHEMES = frozenset({
    "2.16.840.1.113883.6.96",  # SNOMED CT
    "2.16.840.1.113883.6.1",  # LOINC
    "2.16.840.1.113883.6.8",  # UCUM
    "2.16.840.1.113883.6.256",  # RadLex
    "2.16.840.1.113883.6.3",  # ICD-10
    "2.16.840.1.113883.6.90",  # ICD-10-CM
    "2.16.840.1.113883.6.103",  # ICD-9-CM
})


@lru_cache(maxsize=4096)
def is_well_known(uid: str) -> bool:
    """True for a UID that names a kind of thing and so is kept as it is."""
    entry = UID_dictionary.get(uid)
    return (entry is not None and entry[1] in WELL_KNOWN_KINDS) or uid.startswith(CONTEXT_GROUP_ROOT) \
        or uid in EXTERNAL_CODING_SCHEMES


class UidMapper:
    """Maps every UID but the well-known; remembers what it mapped so a run does each UID once."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        uid = str(uid).strip().rstrip("\x00")
        mapped = self._cache.get(uid)
        if mapped is None:
            if len(self._cache) >= _CACHE_LIMIT:  # a run's UIDs repeat within a series; bound the memory
                self._cache.clear()
            mapped = self._cache[uid] = uid if is_well_known(uid) else keyed_uid(self._key, uid)
        return mapped


def keyed_uid(key: bytes, uid: str) -> str:
    """The UID that ``uid`` becomes under ``key``."""
    digest = bytearray(hmac.new(key, b"uid:" + uid.encode("ascii", "replace"), hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return f"{UID_ROOT}.{int.from_bytes(digest, 'big')}"

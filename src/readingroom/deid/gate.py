"""The last check before a file is written: no value from the source's headers survives.

The profile decides what to do with each attribute; this gate does not trust that it was
enough. Every text value left in the output, at any depth, is searched for the source's
own names, identifiers, places and dates; a hit holds the file back.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from readingroom.deid.textscan import PhiValues
from readingroom.deid.walk import iter_elements, text_values

# Vocabulary, not free text: coded values, enumerations, the maker's names, our own method.
_VOCABULARY = frozenset({0x00080100, 0x00080102, 0x00080104, 0x00080070, 0x00081090, 0x00120063, 0x00180010})
_MIN_GATE_LENGTH = 3
# UN is searched: an attribute newer than the reader's dictionary may hold text.
_SKIPPED_VRS = frozenset({"UI", "SQ", "CS", "OB", "OW", "OF", "OD", "OL", "OV", "US", "SS", "UL", "SL", "FL", "FD",
                          "AT", "UV", "SV", "US or SS", "US or OW", "OB or OW", "US or SS or OW"})


def find_leaks(ds: Dataset, phi: PhiValues) -> list[int]:
    """Tags (at any depth) whose value contains one of ``phi``; empty when the file is clean."""
    phi = phi.at_least(_MIN_GATE_LENGTH)
    if phi.is_empty():
        return []
    leaks: list[int] = []
    _search(ds, phi, leaks)
    if "file_meta" in ds.__dict__ or getattr(ds, "file_meta", None) is not None:
        _search(ds.file_meta, phi, leaks)
    return leaks


def _search(ds: Dataset, phi: PhiValues, leaks: list[int]) -> None:
    for owner, tag, vr, elem in iter_elements(ds):
        if vr in _SKIPPED_VRS or tag in _VOCABULARY or tag == 0x7FE00010:
            continue
        values = text_values(owner, elem)
        if values and phi.scan("\\".join(values)):
            leaks.append(int(tag))

"""Visit every element of a dataset, at any depth, without parsing the ones read raw.

pydicom parses an element's value the first time it is looked at, which is most of the
cost of a de-identification run; the writer can copy raw elements untouched. The PHI
collection and the leak gate therefore read text straight from the raw bytes, decoded
with the dataset's own character set.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from pydicom.charset import decode_bytes
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from readingroom.deid.actions import tag_vr

_BACKSLASH = {0x5C}


@lru_cache(maxsize=4096)
def dictionary_vr(tag: int) -> str:
    """The VR of a tag read implicitly (raw VR None): the dictionary's, or UN."""
    return tag_vr(tag) or "UN"


def iter_elements(ds: Dataset) -> Iterator[tuple[Dataset, int, str, object]]:
    """(owning dataset, tag, VR, element) for every non-sequence element, sequences descended."""
    for tag in list(ds.keys()):
        elem = ds.get_item(tag)
        vr = elem.VR or dictionary_vr(tag)
        if vr == "SQ":
            for item in ds[tag].value or ():
                yield from iter_elements(item)
        else:
            yield ds, tag, vr, elem


def text_values(owner: Dataset, elem) -> list[str]:
    """An element's value(s) as text, without converting a raw element."""
    if isinstance(elem, RawDataElement):
        raw = elem.value
        if not raw:
            return []
        text = decode_bytes(raw, _encodings(owner), _BACKSLASH)
        return [v.strip(" \x00") for v in text.split("\\") if v.strip(" \x00")]
    value = elem.value
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def _encodings(ds: Dataset) -> list[str]:
    """Python codecs for ``ds``'s Specific Character Set (pydicom gives a bare str for the default)."""
    encodings = ds._character_set
    return [encodings] if isinstance(encodings, str) else list(encodings)

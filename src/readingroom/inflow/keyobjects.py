"""Key Object Selection documents (PS3.3 A.35.4): which images the sender marked, and why.

A KOS sent with a study ("send to teaching file") points at key images by SOP Instance
UID and may carry a free-text description. The UIDs are mapped with the site's key, as
de-identification maps the images' own; the description is dropped if it holds anything
that is, or looks like, an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.dataset import Dataset

from readingroom.deid import PhiValues, keyed_uid, scan_text

KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
KEY_OBJECT_DESCRIPTION = "113012"  # DCM code: Key Object Description
TITLE_LENGTH = 80


@dataclass(frozen=True)
class KeyObjects:
    key_images: frozenset[str]  # de-identified SOP Instance UIDs
    description: str | None  # None when absent or withheld
    withheld: str | None = None  # why the description was dropped (a rule name, never the text)

    def to_json(self) -> dict:
        return {"key_images": sorted(self.key_images), "description": self.description, "withheld": self.withheld}

    @classmethod
    def from_json(cls, data: dict) -> KeyObjects:
        return cls(frozenset(data["key_images"]), data["description"], data.get("withheld"))

    @property
    def title(self) -> str | None:
        first = (self.description or "").strip().splitlines()
        return first[0][:TITLE_LENGTH].strip() or None if first else None


def is_key_object_selection(ds: Dataset) -> bool:
    return str(ds.get("SOPClassUID", "")) == KEY_OBJECT_SELECTION


def read_key_objects(ds: Dataset, key: bytes) -> KeyObjects:
    references = {
        keyed_uid(key, str(item.ReferencedSOPInstanceUID))
        for evidence in ds.get("CurrentRequestedProcedureEvidenceSequence", [])
        for series in evidence.get("ReferencedSeriesSequence", [])
        for item in series.get("ReferencedSOPSequence", [])
        if item.get("ReferencedSOPInstanceUID")
    }
    text = "\n".join(
        str(item.TextValue) for item in ds.get("ContentSequence", [])
        if item.get("ValueType") == "TEXT" and item.get("TextValue")
        and any(code.get("CodeValue") == KEY_OBJECT_DESCRIPTION for code in item.get("ConceptNameCodeSequence", []))
    ).strip()
    findings = scan_text(text, PhiValues.from_datasets([ds])) if text else []
    if findings:
        return KeyObjects(frozenset(references), None, withheld=findings[0].rule)
    return KeyObjects(frozenset(references), text or None)


def described(found: list[KeyObjects]) -> KeyObjects | None:
    """The first key object selection that carries a description, if any."""
    return next((k for k in found if k.description), None)


def all_key_images(found: list[KeyObjects]) -> frozenset[str]:
    return frozenset().union(*(k.key_images for k in found))

"""The PS3.15 Annex E Basic Profile table (E.1-1), read from data, never typed by hand.

The table comes from the ``dicom-anonymizer`` package, which ships each edition of the
standard's Basic Profile column as Python literals (``dicomfields_<edition>.py``). We read
the newest edition it ships with :mod:`ast` rather than importing it, so loading the table
does not import that package's own anonymizer (tqdm, argument parsing) and nothing runs.

It is cross-checked against a second, independent source: GDCM's own list of the
attributes its Basic Profile acts on (``gdcm.Anonymizer``, from python-gdcm, which we
install for its codecs). Where GDCM acts on an attribute the first table keeps, the
stricter action is taken: removal (a new UID for a UID). The UID rule needs no table at
all: every UID but the well-known ones is remapped (see uids.py), listed or not.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata

from readingroom.deid.actions import tag_vr

# dicom-anonymizer's category names -> the action codes of Table E.1-1.
_CATEGORY_ACTIONS = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}
_DISTRIBUTION = "dicom-anonymizer"
_EDITION_FILE = re.compile(r"dicomanonymizer/dicom_anonymization_databases/dicomfields_(\w+)\.py$")


@dataclass(frozen=True)
class MaskedRow:
    """A row for a repeating group such as (60xx,4000) Overlay Comments."""

    tag: int
    mask: int
    action: str

    def matches(self, tag: int) -> bool:
        return tag & self.mask == self.tag


@dataclass(frozen=True)
class BasicProfile:
    """Table E.1-1's Basic Profile column: tag -> action code (``"X"``, ``"Z/D"``, ...)."""

    edition: str
    actions: dict[int, str]
    masked: tuple[MaskedRow, ...] = field(default=())

    def action_for(self, tag: int) -> str | None:
        """The table's action for ``tag``, or None when the table does not list it (K)."""
        action = self.actions.get(tag)
        if action is not None:
            return action
        if tag >> 24 in (0x50, 0x60):  # only the curve/overlay repeating groups are masked rows
            for row in self.masked:
                if row.matches(tag):
                    return row.action
        return None

    def __len__(self) -> int:
        return len(self.actions) + len(self.masked)


@lru_cache(maxsize=1)
def load_basic_profile() -> BasicProfile:
    """The newest edition of the Basic Profile table that dicom-anonymizer ships."""
    try:
        files = metadata.files(_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        raise RuntimeError(
            "dicom-anonymizer is not installed; it provides the PS3.15 Basic Profile table "
            "(pip install 'dicom-anonymizer>=2.1')"
        ) from None
    editions = sorted((m.group(1), f) for f in files if (m := _EDITION_FILE.search(str(f))))
    if not editions:
        raise RuntimeError(f"{_DISTRIBUTION} ships no dicomfields_<edition>.py table; reinstall it")
    edition, path = editions[-1]
    table = _parse_table(edition, path.read_text(encoding="utf-8"))
    stricter = {tag: "U" if tag_vr(tag) == "UI" else "X" for tag in gdcm_listed() if table.action_for(tag) is None}
    return BasicProfile(edition=table.edition, actions={**table.actions, **stricter}, masked=table.masked)


def gdcm_listed() -> frozenset[int]:
    """The attributes GDCM's Basic Application Level Confidentiality Profile acts on."""
    import gdcm

    return frozenset(t.GetGroup() << 16 | t.GetElement()
                     for t in gdcm.Anonymizer.GetBasicApplicationLevelConfidentialityProfileAttributes())


def _parse_table(edition: str, source: str) -> BasicProfile:
    actions: dict[int, str] = {}
    masked: list[MaskedRow] = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        name = getattr(node.targets[0], "id", None)
        action = _CATEGORY_ACTIONS.get(name)
        if action is None:
            continue
        for row in ast.literal_eval(node.value):
            if len(row) == 2:
                actions[row[0] << 16 | row[1]] = action
            elif len(row) == 4:  # (group, element, group mask, element mask)
                masked.append(MaskedRow(row[0] << 16 | row[1], row[2] << 16 | row[3], action))
            else:
                raise RuntimeError(f"{_DISTRIBUTION} table {edition}: unexpected row {row!r}")
    if len(actions) < 300:  # the 2023+ editions list well over 500 rows; fewer means a broken file
        raise RuntimeError(f"{_DISTRIBUTION} table {edition} lists only {len(actions)} attributes; reinstall it")
    return BasicProfile(edition=edition, actions=actions, masked=tuple(masked))

"""Re-check a file that claims to be de-identified, without its source.

`readingroom check` runs this over every image of a case: the file must say it was
de-identified, carry no private attributes, nothing the Basic Profile removes or
empties, no identifier in the descriptions it keeps, and (where text is usually burned
in) no readable text left in its pixels.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.datadict import keyword_for_tag

from readingroom.deid.actions import Action, resolve
from readingroom.deid.profile import load_basic_profile
from readingroom.deid.textscan import scan_text


def header_problems(ds: Dataset) -> list[str]:
    """What in the header contradicts de-identification; empty when clean."""
    problems = []
    if str(ds.get("PatientIdentityRemoved", "")).upper() != "YES":
        problems.append("(0012,0062) Patient Identity Removed is not YES: the file was not de-identified")
    _walk(ds, load_basic_profile(), problems)
    return problems


def _walk(ds: Dataset, profile, problems: list[str]) -> None:
    for element in ds:
        tag = int(element.tag)
        name = f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {keyword_for_tag(tag) or 'private attribute'}"
        if element.tag.is_private:
            problems.append(f"{name} is present; private attributes must be removed")
            continue
        action = resolve(tag, profile.action_for(tag), element.VR)
        empty = element.value in (None, "", b"") or (element.VR == "SQ" and len(element.value) == 0)
        if action is Action.REMOVE and element.VR != "SQ" and not empty:
            problems.append(f"{name} still has a value; the Basic Profile removes it")
        elif action is Action.EMPTY and not empty:
            problems.append(f"{name} still has a value; the Basic Profile empties it")
        elif action is Action.CLEAN and not empty and scan_text(str(element.value)):
            problems.append(f"{name} contains what looks like an identifier")
        if element.VR == "SQ":
            for item in element.value or []:
                _walk(item, profile, problems)


def pixel_problems(ds: Dataset, frames) -> list[str]:
    """Readable text left in frames of a kind where text is usually burned in."""
    from readingroom.deid.burnedin import pixel_check_reason
    from readingroom.deid.ocr import REMAINS_CONFIDENCE, find_text

    reason = pixel_check_reason(ds)
    if reason is None:
        return []
    problems = []
    for number, frame in frames:
        boxes = find_text(frame, min_confidence=REMAINS_CONFIDENCE)
        if boxes:
            problems.append(f"frame {number}: {len(boxes)} readable word(s) of burned-in text ({reason}); mask them with `readingroom deid`")
    return problems

"""Turn Table E.1-1's codes, combined codes and our options into one action per attribute.

Combined codes are resolved so that a de-identified file stays valid in every IOD the
table covers, without keeping any original value:

- ``X/Z``, ``Z/D`` -> empty (Z): an empty value satisfies a Type 2 attribute and discloses
  nothing (the Z/D rows, e.g. Contrast/Bolus Agent, are Type 2 wherever they are used).
- ``X/D``, ``X/Z/D`` -> dummy (D): a dummy satisfies Type 1 (e.g. Device Serial
  Number in Enhanced General Equipment), where an empty value would fail validation.
  Sequences under X/Z, X/D and X/Z/D are removed instead: a dummy item has no meaning, and
  an empty sequence is invalid where the attribute is Type 3 with one or more items.
- ``X/Z/U*`` (Referenced/Source Image Sequence) -> the items are kept and cleaned, so
  their UIDs are remapped with the rest and the references still resolve.
- ``D`` on a sequence (Content Sequence, ...) -> the items are kept and cleaned likewise.

Options (PS3.15 E.3):
- Retain Longitudinal Temporal Information with Modified Dates: every DA and DT value the
  table lists is shifted by the patient's keyed offset instead of being removed. The offset
  is a whole number of days, so times of day (TM) stay as they are and a date still pairs
  with its time. Patient's Birth Date is the exception and is emptied: age is retained.
- Retain Patient Characteristics: sex, age, size and weight are kept (teaching needs them),
  except that ages over 89 become 90 (``090Y``), as HIPAA's Safe Harbor asks.
- Clean Descriptors: free-text descriptions and comments are kept only when the text scan
  finds nothing in them; otherwise the basic action applies.
"""

from __future__ import annotations

from enum import Enum

from pydicom.datadict import dictionary_VR, keyword_for_tag


class Action(str, Enum):
    """What happens to one attribute."""

    KEEP = "keep"
    REMOVE = "remove"
    EMPTY = "empty"
    DUMMY = "dummy"
    UID = "remap-uid"
    SHIFT = "shift-date"
    AGE = "aggregate-age"
    PSEUDONYM = "pseudonym"
    CLEAN = "clean-descriptor"
    RECURSE = "clean-items"


class OptionCode(str, Enum):
    """CID 7050 codes for the profile and options applied (PS3.16)."""

    BASIC_PROFILE = "113100"
    CLEAN_PIXEL_DATA = "113101"
    CLEAN_DESCRIPTORS = "113105"
    RETAIN_LONGITUDINAL_MODIFIED_DATES = "113107"
    RETAIN_PATIENT_CHARACTERISTICS = "113108"


CODE_MEANINGS = {
    OptionCode.BASIC_PROFILE: "Basic Application Confidentiality Profile",
    OptionCode.CLEAN_PIXEL_DATA: "Clean Pixel Data Option",
    OptionCode.CLEAN_DESCRIPTORS: "Clean Descriptors Option",
    OptionCode.RETAIN_LONGITUDINAL_MODIFIED_DATES: "Retain Longitudinal Temporal Information Modified Dates Option",
    OptionCode.RETAIN_PATIENT_CHARACTERISTICS: "Retain Patient Characteristics Option",
}

PATIENT_NAME = 0x00100010
PATIENT_ID = 0x00100020
PATIENT_BIRTH_DATE = 0x00100030
PATIENT_AGE = 0x00101010
RETAINED_CHARACTERISTICS = frozenset({0x00100040, 0x00101020, 0x00101030})  # sex, size, weight
_TEXT_VRS = frozenset({"LO", "SH", "LT", "ST", "UT", "UC"})
_DATE_VRS = frozenset({"DA", "DT"})
_PATIENT_LEVEL = ("Patient", "Visit", "Admitting", "AdditionalPatient", "Medical")
_BASIC = {
    "X": Action.REMOVE,
    "Z": Action.EMPTY,
    "D": Action.DUMMY,
    "U": Action.UID,
    "X/Z": Action.EMPTY,
    "X/D": Action.DUMMY,
    "Z/D": Action.EMPTY,
    "X/Z/D": Action.DUMMY,
    "X/Z/U*": Action.RECURSE,
}


def tag_vr(tag: int) -> str | None:
    """The data dictionary's VR for ``tag`` (the first when it lists several)."""
    try:
        return dictionary_VR(tag).split(" or ")[0]
    except KeyError:
        return None


def is_descriptor(tag: int, vr: str | None) -> bool:
    """A free-text description or comment: what the Clean Descriptors option keeps when clean."""
    keyword = keyword_for_tag(tag)
    if keyword.startswith(_PATIENT_LEVEL):  # about the person, not the images: never kept
        return False
    return vr in _TEXT_VRS and (keyword.endswith(("Description", "Comments")) or keyword == "ProtocolName")


def basic_action(code: str) -> Action:
    """The action for a Basic Profile code alone, before options and VR."""
    try:
        return _BASIC[code]
    except KeyError:
        raise ValueError(f"unknown Table E.1-1 action code {code!r}") from None


def resolve(tag: int, code: str | None, vr: str | None) -> Action:
    """The one action for ``tag`` given the table's ``code`` (None = not listed) and its VR."""
    if code is None:
        return Action.RECURSE if vr == "SQ" else Action.KEEP
    if tag in (PATIENT_NAME, PATIENT_ID):
        return Action.PSEUDONYM
    if tag in RETAINED_CHARACTERISTICS:
        return Action.KEEP
    if tag == PATIENT_AGE:
        return Action.AGE
    if tag == PATIENT_BIRTH_DATE:
        return Action.EMPTY
    action = basic_action(code)
    if vr == "SQ":
        if code in ("D", "X/Z/U*"):
            return Action.RECURSE
        if code == "Z":
            return Action.EMPTY
        return Action.REMOVE if code.startswith("X") else Action.EMPTY
    if vr == "UI" and action is not Action.REMOVE:
        return Action.UID
    if vr in _DATE_VRS:
        return Action.SHIFT
    if vr == "TM":
        return Action.KEEP  # whole-day shifts leave the time of day unchanged
    if is_descriptor(tag, vr):
        return Action.CLEAN
    return action

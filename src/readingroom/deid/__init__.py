"""De-identification: the PS3.15 Basic Profile with teaching-safe options, keyed pseudonyms
and UIDs, burned-in text masking, and a text scan for case narratives.

OCR is imported only when an image needs it, so importing this package stays light.
"""

from readingroom.deid.actions import Action, OptionCode, resolve
from readingroom.deid.engine import DeidReport, HeldBack, deidentify, deidentify_dataset
from readingroom.deid.keyfile import default_key_path, key_fingerprint, load_or_create_key
from readingroom.deid.profile import BasicProfile, load_basic_profile
from readingroom.deid.pseudonyms import Pseudonymizer, patient_identity
from readingroom.deid.textscan import Finding, PhiValues, scan_text
from readingroom.deid.uids import UidMapper, keyed_uid

__all__ = [
    "Action", "BasicProfile", "DeidReport", "Finding", "HeldBack", "OptionCode", "PhiValues",
    "Pseudonymizer", "UidMapper", "default_key_path", "deidentify", "deidentify_dataset",
    "key_fingerprint", "keyed_uid", "load_basic_profile", "load_or_create_key",
    "patient_identity", "resolve", "scan_text",
]

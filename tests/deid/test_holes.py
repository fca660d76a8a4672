"""Holes 2 and 3 of issue 13, and the age rule: what a header-only de-identification must not let through."""

from __future__ import annotations

import json

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from readingroom.deid import deidentify, deidentify_dataset, keyed_uid

from .phi_corpus import INSTITUTION, OPERATOR, PATIENT_A, STATION

KEY = bytes(range(32))
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
VENDOR_UID = "1.2.840.113619.6.475"  # a scanner software version UID


def _ct(**attributes) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.9.7.1"
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.9.7.2"
    ds.PatientName = PATIENT_A.name
    ds.PatientID = PATIENT_A.patient_id
    ds.Modality = "CT"
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


class TestKeptDescriptions:
    def test_the_institution_named_in_a_description_is_cleaned_of_it(self):
        out = deidentify_dataset(_ct(InstitutionName=INSTITUTION,
                                     PerformedProcedureStepDescription=f"CT HEAD WITHOUT CONTRAST at {INSTITUTION}"),
                                 KEY, check_pixels=False)
        assert out.PerformedProcedureStepDescription == "CT HEAD WITHOUT CONTRAST at"

    @pytest.mark.parametrize("text", [
        f"done by {OPERATOR.split('^')[0].lower()}",      # a name part, lower case
        f"ROUTINE ({STATION})",                          # the station, in punctuation
        "HEAD^BRAMBLEWOOD^MEMORIAL^HOSPITAL",           # the institution, ^ for spaces
        "Bramblewood-Memorial-Hospital protocol",       # dashes for spaces
    ])
    def test_values_are_found_word_wise_whatever_the_separators(self, text):
        out = deidentify_dataset(_ct(InstitutionName=INSTITUTION, OperatorsName=OPERATOR, StationName=STATION,
                                     StudyDescription=text), KEY, check_pixels=False)
        kept = str(out.get("StudyDescription", "")).lower()
        assert all(word not in kept for word in ("fenwick", STATION.lower(), "bramblewood")), kept

    def test_a_value_from_another_file_of_the_same_patient_is_cleaned_and_reported(self, tmp_path):
        source = tmp_path / "src"
        source.mkdir()
        _ct(InstitutionName=INSTITUTION).save_as(source / "a.dcm", enforce_file_format=True)
        other = _ct(SeriesDescription="Chest series, Bramblewood Memorial Hospital")
        other.SOPInstanceUID = "1.2.826.0.1.3680043.9.7.3"
        other.save_as(source / "b.dcm", enforce_file_format=True)
        deidentify(source, tmp_path / "out", key_path=tmp_path / "k" / "deid.key", workers=1)
        written = [pydicom.dcmread(p) for p in (tmp_path / "out").rglob("*.dcm")]
        assert all("bramblewood" not in str(ds.get("SeriesDescription", "")).lower() for ds in written)
        report = (tmp_path / "out" / "deid-report.json").read_text()
        assert "bramblewood" not in report.lower()
        cleaned = json.loads(report)["cleaned_text"]
        assert cleaned == {"(0008,103E) SeriesDescription": {"place from the headers": 1}}


class TestEveryUidRemapped:
    def test_creator_version_uid_is_remapped(self):
        out = deidentify_dataset(_ct(CreatorVersionUID=VENDOR_UID), KEY, check_pixels=False)
        assert out.CreatorVersionUID == keyed_uid(KEY, VENDOR_UID)

    def test_unlisted_uids_in_sequences_and_private_creators_are_remapped(self):
        item = Dataset()
        item.add_new(0x00081150, "UI", CT_IMAGE)  # Referenced SOP Class UID: a well-known class, kept
        item.add_new(0x0040A124, "UI", VENDOR_UID)  # UID (in an SR content item)
        ds = _ct(ContentSequence=Sequence([item]), TransferSyntaxUID="1.2.840.10008.1.2.1")
        out = deidentify_dataset(ds, KEY, check_pixels=False)
        assert out.ContentSequence[0][0x0040A124].value == keyed_uid(KEY, VENDOR_UID)
        assert out.ContentSequence[0].ReferencedSOPClassUID == CT_IMAGE
        assert out.SOPClassUID == CT_IMAGE

    def test_well_known_uids_are_kept(self):
        coding = Dataset()
        coding.CodingSchemeUID = "2.16.840.1.113883.6.96"  # SNOMED CT's coding scheme UID
        coding.ContextGroupExtensionCreatorUID = "1.2.840.10008.2.16.4"  # DCM
        out = deidentify_dataset(_ct(CodingSchemeIdentificationSequence=Sequence([coding]),
                                     FrameOfReferenceUID="1.2.840.10008.1.4.1.1"),  # Talairach (registry)
                                 KEY, check_pixels=False)
        assert out.CodingSchemeIdentificationSequence[0].CodingSchemeUID == "2.16.840.1.113883.6.96"
        assert out.CodingSchemeIdentificationSequence[0].ContextGroupExtensionCreatorUID == "1.2.840.10008.2.16.4"
        assert out.FrameOfReferenceUID == "1.2.840.10008.1.4.1.1"


def test_ages_over_89_become_090Y():
    assert deidentify_dataset(_ct(PatientAge="093Y"), KEY, check_pixels=False).PatientAge == "090Y"
    assert deidentify_dataset(_ct(PatientAge="089Y"), KEY, check_pixels=False).PatientAge == "089Y"


def test_check_flags_an_age_over_89_left_in_a_case_image():
    from readingroom.deid.verify import header_problems

    out = deidentify_dataset(_ct(PatientAge="063Y"), KEY, check_pixels=False)
    assert header_problems(out) == []
    out.PatientAge = "095Y"
    assert header_problems(out) == ["(0010,1010) PatientAge is over 89 or not an age; give ages over 89 as 090Y"]


def test_the_report_counts_well_known_uids_as_kept(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    _ct(CreatorVersionUID=VENDOR_UID).save_as(source / "a.dcm", enforce_file_format=True)
    actions = deidentify(source, tmp_path / "out", key_path=tmp_path / "k" / "deid.key", workers=1).actions
    assert actions["(0008,0016) SOPClassUID"] == {"keep": 1}
    assert actions["(0008,9123) CreatorVersionUID"] == {"remap-uid": 1}

"""The synthetic-PHI corpus de-identified end to end: what a reviewer of the output would check."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pydicom

from .phi_corpus import BURNED_TEXT, INSIDE_TEXT_AT, PATIENT_A, PHI_STRINGS, US_IMAGE

OUTPUT_PATH = re.compile(r"^RR[0-9A-F]{10}/[0-9a-f]{8}/[0-9a-f]{8}/\d{5}-[0-9a-f]{8}\.dcm$")


def _outputs(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*.dcm"))}


def _read_all(root: Path) -> dict[str, pydicom.Dataset]:
    return {rel: pydicom.dcmread(path) for rel, path in _outputs(root).items()}


def test_every_input_is_written_and_reported(two_runs, corpus):
    run1, _, report, _, _ = two_runs
    inputs = len(list(corpus.root.rglob("*.dcm")))
    assert (report.inputs, report.written, report.held_back) == (inputs, inputs, [])
    saved = json.loads((run1 / "deid-report.json").read_text())
    assert saved["counts"] == {"inputs": inputs, "written": inputs, "held_back": 0, "pixels_checked": 3, "pixels_masked": 3}
    assert saved["actions"]["(0010,0010) PatientName"] == {"pseudonym": inputs}
    assert saved["actions"]["private attributes"]["remove"] == 4 * inputs  # creator + 3 elements
    assert len(_outputs(run1)) == inputs


def test_no_phi_in_any_output_byte_or_path(two_runs, corpus):
    run1, run2, *_ = two_runs
    needles = [s.lower().encode() for s in PHI_STRINGS] + [uid.encode() for uid in corpus.source_uids]
    found = []
    for root in (run1, run2):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes().lower()
            rel = path.relative_to(root).as_posix().lower().encode()
            found += [(path.name, n.decode()) for n in needles if n in data or n in rel]
    assert found == []


def test_output_paths_are_pseudonyms_and_numbers(two_runs):
    run1, *_ = two_runs
    paths = list(_outputs(run1))
    assert paths and all(OUTPUT_PATH.match(p) for p in paths), paths[:3]
    assert len({p.split("/")[0] for p in paths}) == 2  # two patients


def test_two_runs_with_one_key_agree_byte_for_byte(two_runs):
    run1, run2, *_ = two_runs  # the second ran on two processes
    first, second = _outputs(run1), _outputs(run2)
    assert first.keys() == second.keys()
    assert all(first[rel].read_bytes() == second[rel].read_bytes() for rel in first)


def test_uids_are_remapped_validly_and_references_follow(two_runs, corpus):
    run1, *_ = two_runs
    datasets = _read_all(run1)
    sop_uids = {ds.SOPInstanceUID for ds in datasets.values()}
    for ds in datasets.values():
        for uid in (ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID):
            assert len(uid) <= 64 and re.fullmatch(r"2\.25\.[1-9]\d*", uid)
            assert uid not in corpus.source_uids
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        for item in ds.get("ReferencedImageSequence", []):
            assert item.ReferencedSOPInstanceUID in sop_uids  # the previous slice, under its new UID
        assert "ReferencedStudySequence" not in ds  # X/Z on a Type 3 sequence: removed (empty is invalid)
    ct = [ds for ds in datasets.values() if ds.Modality == "CT"]
    assert sum("ReferencedImageSequence" in ds for ds in ct) == len(ct) - 3  # every slice but each series' first
    assert len({ds.StudyInstanceUID for ds in ct}) == 3


def test_patients_get_one_pseudonym_and_true_intervals(two_runs, corpus):
    run1, *_ = two_runs
    datasets = list(_read_all(run1).values())
    for ds in datasets:
        assert ds.PatientName == ds.PatientID and re.fullmatch(r"RR[0-9A-F]{10}", ds.PatientID)
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.PatientBirthDate == ""
        codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
        assert {"113100", "113105", "113107", "113108"} <= set(codes)
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    a = [ds for ds in datasets if ds.PatientSex == "F" and ds.Modality == "CT"]
    by_patient: dict[str, set[str]] = {}
    for ds in a:
        by_patient.setdefault(ds.PatientID, set()).add(ds.StudyDate)
    dates = sorted(max(by_patient.values(), key=len))
    assert len(dates) == 2
    gap = dt.datetime.strptime(dates[1], "%Y%m%d") - dt.datetime.strptime(dates[0], "%Y%m%d")
    assert gap.days == 17  # 2021-06-14 -> 2021-07-01
    assert not set(dates) & set(corpus.study_dates.values())


def test_teaching_attributes_and_ct_pixels_are_retained(two_runs, corpus):
    run1, *_ = two_runs
    sources = {pydicom.dcmread(p).InstanceNumber: pydicom.dcmread(p) for p in sorted(corpus.ct_folder_a1.glob("*.dcm"))}
    source_pixels = {n: ds.PixelData for n, ds in sources.items()}
    study_uid = next(iter(sources.values())).StudyInstanceUID
    from readingroom.deid.keyfile import load_or_create_key
    from readingroom.deid.uids import keyed_uid

    new_study = keyed_uid(load_or_create_key(two_runs[4]), study_uid)
    outputs = [ds for ds in _read_all(run1).values() if ds.StudyInstanceUID == new_study]
    assert len(outputs) == len(sources)
    kept = ("Modality", "PatientAge", "PatientSex", "PatientSize", "PatientWeight", "PixelSpacing", "SliceThickness",
            "ImagePositionPatient", "ImageOrientationPatient", "RescaleIntercept", "RescaleSlope", "WindowCenter",
            "WindowWidth", "Rows", "Columns", "BitsStored", "StudyDescription", "ProtocolName", "BodyPartExamined",
            "StudyTime", "KVP")
    for ds in outputs:
        source = sources[ds.InstanceNumber]
        assert {k: ds.get(k) for k in kept} == {k: source.get(k) for k in kept}
        assert ds.PixelData == source_pixels[ds.InstanceNumber]
        assert ds.SeriesDescription == "Chest follow-up for"  # it named the patient: Clean Descriptors cut the name
        assert ds.ImageComments == "MRN, call"  # its ID and phone number cut
        assert ds.InstitutionName == "ANONYMIZED" and ds.ReferringPhysicianName == ""


def test_burned_in_text_is_masked_with_and_without_the_flag(two_runs, corpus):
    run1, *_ = two_runs
    images = [ds for ds in _read_all(run1).values() if ds.Modality != "CT"]
    assert len(images) == 3  # ultrasound flagged, ultrasound not flagged, screenshot
    originals = {}
    for path in corpus.root.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        if ds.Modality != "CT":
            originals[(ds.SOPClassUID, ds.SeriesNumber)] = ds.pixel_array
    for ds in images:
        pixels, before = ds.pixel_array, originals[(ds.SOPClassUID, ds.SeriesNumber)]
        assert ds.BurnedInAnnotation == "NO"
        assert "113101" in [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
        assert BURNED_TEXT in _ocr_words(before) and BURNED_TEXT not in _ocr_words(pixels)
        assert pixels[10:45, 10:160].max() < 60  # the name's corner is dark now
        if ds.SOPClassUID == US_IMAGE:
            outside = np.ones(pixels.shape[:2], bool)
            outside[60:220, 40:280] = False
            assert pixels[outside].max() == 0  # everything outside the declared region masked
        region_same = (pixels[60:220, 40:280] == before[60:220, 40:280]).all(axis=-1).mean()
        assert region_same > 0.85  # the image itself survives where there was no text
        x, y = INSIDE_TEXT_AT
        if ds.SeriesNumber == 6 or ds.SOPClassUID != US_IMAGE:  # the ID drawn over the image
            assert PATIENT_A.patient_id not in _ocr_words(pixels)
            assert (pixels[y + 4:y + 20, x + 4:x + 120] != before[y + 4:y + 20, x + 4:x + 120]).any()


def _ocr_words(pixels: np.ndarray) -> str:
    import pytesseract
    from PIL import Image

    from readingroom.deid.ocr import to_gray

    image = Image.fromarray(255 - to_gray(pixels)).resize((pixels.shape[1] * 3, pixels.shape[0] * 3))
    return pytesseract.image_to_string(image, config="--psm 11").replace(" ", "").upper()


def test_no_temporary_files_are_left(two_runs):
    run1, run2, *_ = two_runs
    assert [p for root in (run1, run2) for p in root.rglob("*") if p.name.startswith(".")] == []

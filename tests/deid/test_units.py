"""Keyed UIDs, the key file, the text scan and action resolution, each on its own."""

from __future__ import annotations

import re
import stat

import pytest
from pydicom.dataset import Dataset

from readingroom.deid import Action, PhiValues, keyed_uid, load_or_create_key, resolve, scan_text
from readingroom.deid.actions import tag_vr
from readingroom.errors import InputError

KEY = bytes(range(32))


class TestKeyedUid:
    def test_valid_and_stable(self):
        uid = keyed_uid(KEY, "1.2.840.113619.2.55.3.604688119.969.1268071029.320")
        assert uid == keyed_uid(KEY, "1.2.840.113619.2.55.3.604688119.969.1268071029.320")
        assert len(uid) <= 64 and re.fullmatch(r"2\.25\.[1-9]\d*", uid)

    def test_depends_on_key_and_input(self):
        uid = "1.2.3.4"
        assert len({keyed_uid(KEY, uid), keyed_uid(KEY[::-1], uid), keyed_uid(KEY, uid + ".1")}) == 3


class TestKeyFile:
    def test_created_owner_only_and_reused(self, tmp_path):
        path = tmp_path / "keys" / "deid.key"
        key = load_or_create_key(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(key) == 32
        assert load_or_create_key(path) == key

    def test_refused_inside_a_project(self, tmp_path):
        (tmp_path / "case-repo" / ".git").mkdir(parents=True)
        with pytest.raises(InputError, match=r"must not be inside a project .*case-repo has \.git"):
            load_or_create_key(tmp_path / "case-repo" / "deid.key")
        assert not (tmp_path / "case-repo" / "deid.key").exists()

    def test_readable_by_others_is_refused(self, tmp_path):
        path = tmp_path / "deid.key"
        load_or_create_key(path)
        path.chmod(0o644)
        with pytest.raises(InputError, match=r"deid\.key: the key file is readable by others; run `chmod 600"):
            load_or_create_key(path)

    def test_unreadable(self, tmp_path):
        path = tmp_path / "deid.key"
        path.mkdir(mode=0o700)  # unreadable as a file, even for root
        with pytest.raises(InputError, match=r"deid\.key: cannot read the key file \(Is a directory\); fix"):
            load_or_create_key(path)

    def test_not_a_key(self, tmp_path):
        path = tmp_path / "deid.key"
        path.write_text("hello\n")
        path.chmod(0o600)
        with pytest.raises(InputError, match="not a readingroom key"):
            load_or_create_key(path)


class TestScanText:
    @pytest.fixture
    def phi(self):
        ds = Dataset()
        ds.PatientName = "Quixtable^Marguerite^Ostrava"
        ds.PatientID = "QX99817263"
        ds.PatientBirthDate = "19570614"
        ds.InstitutionName = "Bramblewood Memorial Hospital"
        ds.ReferringPhysicianName = "Drummond^Percival"
        return PhiValues.from_datasets([ds])

    @pytest.mark.parametrize(
        ("text", "rule"),
        [
            ("Mrs MARGUERITE QUIXTABLE presented", "name from the headers"),
            ("referred by Dr. Drummond", "name from the headers"),
            ("id QX99817263 on file", "identifier from the headers"),
            ("born June 14, 1957", "date from the headers"),
            ("born 14/06/1957", "date from the headers"),
            ("born 1957-06-14", "date from the headers"),
            ("at Bramblewood  Memorial Hospital", "place from the headers"),
            ("MRN: 44871236", "medical record number"),
            ("call (555) 014-2291", "phone number"),
            ("call +44 20 7946 0958", "phone number"),
            ("mail m.q@example.org", "e-mail address"),
            ("lives at 4417 Wistful Vista Lane", "street address"),
            ("scanned on 3 March 2021", "date"),
            ("scanned 2021-03-03", "date"),
        ],
    )
    def test_finds(self, phi, text, rule):
        findings = scan_text(text, phi)
        assert rule in {f.rule for f in findings}
        assert all(0 <= f.start < f.end <= len(text) for f in findings)

    def test_clean_narrative_has_no_findings(self, phi):
        text = ("A 63-year-old woman with a 5 mm nodule in the right upper lobe (series 3, image 42). "
                "Follow-up CT in 12 months per Fleischner 2017 guidelines; HU 40, W 400.")
        assert scan_text(text, phi) == []

    def test_from_files_reads_the_source_headers(self, tmp_path):
        from .phi_corpus import PATIENT_B, build_corpus

        corpus = build_corpus(tmp_path / "c", slices=1, with_images=False)
        phi = PhiValues.from_files(sorted(corpus.root.rglob("*.dcm")))
        text = f"Case of {PATIENT_B.given} {PATIENT_B.family}, {PATIENT_B.patient_id}"
        assert [f.rule for f in scan_text(text, phi)].count("name from the headers") == 2
        (tmp_path / "notes.txt").write_text("x")
        with pytest.raises(InputError, match=r"notes\.txt: cannot read its DICOM header"):
            PhiValues.from_files([tmp_path / "notes.txt"])

    def test_placeholders_in_the_headers_are_not_phi(self):
        ds = Dataset()
        ds.PatientName = "ANONYMIZED"
        ds.InstitutionName = "Anonymous"
        assert PhiValues.from_datasets([ds]).is_empty()


class TestResolve:
    @pytest.mark.parametrize(
        ("keyword", "code", "expected"),
        [
            ("ReviewerName", "X/Z", Action.EMPTY),
            ("RequestedProcedureDescription", "X/Z", Action.CLEAN),
            ("ReferencedStudySequence", "X/Z", Action.REMOVE),
            ("ContrastBolusAgent", "Z/D", Action.EMPTY),
            ("DeviceSerialNumber", "X/Z/D", Action.DUMMY),
            ("DetectorID", "X/D", Action.DUMMY),
            ("InstitutionCodeSequence", "X/Z/D", Action.REMOVE),
            ("SpecimenPreparationSequence", "Z", Action.EMPTY),
            ("ReferencedImageSequence", "X/Z/U*", Action.RECURSE),
            ("ContentSequence", "D", Action.RECURSE),
            ("AcquisitionDateTime", "X/Z/D", Action.SHIFT),
            ("StudyDate", "Z", Action.SHIFT),
            ("StudyTime", "Z", Action.KEEP),
            ("PatientBirthDate", "Z", Action.EMPTY),
            ("PatientWeight", "X", Action.KEEP),
            ("PatientName", "Z", Action.PSEUDONYM),
            ("SeriesDescription", "X", Action.CLEAN),
            ("PatientComments", "X", Action.REMOVE),
            ("AnnotationGroupUID", "D", Action.UID),
            ("Modality", None, Action.KEEP),
        ],
    )
    def test_combined_codes_and_options(self, keyword, code, expected):
        from pydicom.datadict import tag_for_keyword

        tag = tag_for_keyword(keyword)
        assert resolve(tag, code, tag_vr(tag)) is expected


def test_fast_writer_matches_pydicom_byte_for_byte(tmp_path, pydicom_files, data_store_files):
    """The raw-copy writer is an optimisation only: its output must equal pydicom's dcmwrite,
    for the synthetic corpus and for every public file it applies to."""
    import io
    import warnings

    import pydicom
    from pydicom import dcmwrite

    from readingroom.deid.dataset import DatasetDeidentifier
    from readingroom.deid.profile import load_basic_profile
    from readingroom.deid.writer import _fast_path_applies, _write_explicit_le

    from .phi_corpus import build_corpus

    corpus = build_corpus(tmp_path / "c", slices=2, with_images=False)
    paths = sorted(corpus.root.rglob("*.dcm")) + sorted(pydicom_files.glob("*.dcm")) + sorted(data_store_files.glob("*.dcm"))
    deidentifier = DatasetDeidentifier(KEY, load_basic_profile())
    compared, different = 0, []
    for path in paths:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path)
                deidentifier.apply(ds, deidentifier.context_for(ds))
                reference = io.BytesIO()
                dcmwrite(reference, ds, enforce_file_format=True)
            except Exception:  # broken public files: not what this test is about
                continue
        if not _fast_path_applies(ds):
            continue
        fast = io.BytesIO()
        _write_explicit_le(fast, ds)
        compared += 1
        if fast.getvalue() != reference.getvalue():
            different.append(path.name)
    assert compared >= 50 and different == []


def test_gate_finds_a_name_in_an_attribute_the_table_keeps():
    """SR text, or an attribute newer than the dictionary (read as UN), is kept by the profile:
    the gate is what stops a name in it."""
    from readingroom.deid.gate import find_leaks

    source = Dataset()
    source.PatientName = "Quixtable^Marguerite"
    output = Dataset()
    output.TextValue = "Discussed with Mrs Quixtable"  # (0040,A160) UT, K in Table E.1-1
    output.add_new(0x0018FFF0, "UN", b"QUIXTABLE ")  # a public tag this pydicom does not know
    output.BodyPartExamined = "CHEST"
    assert sorted(find_leaks(output, PhiValues.from_datasets([source]))) == [0x0018FFF0, 0x0040A160]


def test_importing_deid_does_not_import_ocr():
    import subprocess
    import sys

    code = "import sys, readingroom.deid; print(sorted(m for m in ('pytesseract', 'readingroom.deid.ocr') if m in sys.modules))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


class TestSampledFrames:
    """Which frames of a clip `check` reads: first, middle, last and any whose border differs."""

    @staticmethod
    def _clip(count: int, marked: set[int]) -> list:
        import numpy as np

        frames = []
        for index in range(count):
            frame = np.zeros((100, 120), dtype=np.uint8)
            frame[40:60, 40:80] = index  # the image itself changes every frame
            if index in marked:
                frame[2:10, 5:50] = 255  # an overlay in the top border
            frames.append(frame)
        return frames

    def test_a_still_border_is_read_on_three_frames(self):
        from readingroom.deid.verify import sampled_frames

        frames = self._clip(9, set())
        assert sampled_frames(9, frames.__getitem__) == [0, 4, 8]

    def test_a_frame_whose_border_changes_is_read_too(self):
        from readingroom.deid.verify import sampled_frames

        frames = self._clip(9, {2, 3})
        assert sampled_frames(9, frames.__getitem__) == [0, 2, 4, 8]  # 3's border is 2's

    def test_one_and_two_frames(self):
        from readingroom.deid.verify import sampled_frames

        assert sampled_frames(1, self._clip(1, set()).__getitem__) == [0]
        assert sampled_frames(2, self._clip(2, {1}).__getitem__) == [0, 1]

import json
import shutil
import subprocess
import sys

from ..conftest import FAKE_PHI


def test_lists_series_with_geometry_and_encoding(run, small_ct):
    result = run("inspect", small_ct)
    assert result.exit_code == 0, result.stderr
    for text in ("CT", "Axial phantom", "12", "64x64", "0.5 x 0.5 x 2", "MONOCHROME2", "ExplicitVRLittleEndian", "HEAD"):
        assert text in result.stdout


def test_json_describes_every_series(run, small_ct, data_store_files):
    shutil.copy(data_store_files / "RG1_UNCR.dcm", small_ct / "chest.dcm")
    result = run("inspect", "--json", small_ct)
    assert result.exit_code == 0
    series = [s for study in json.loads(result.stdout)["studies"] for s in study["series"]]
    assert [(s["index"], s["modality"], s["frames"]) for s in series] == [(1, "CT", 12), (2, "CR", 1)] or \
        sorted((s["modality"], s["frames"]) for s in series) == [("CR", 1), ("CT", 12)]
    ct = next(s for s in series if s["modality"] == "CT")
    assert ct["pixel_spacing"] == [0.5, 0.5] and ct["slice_spacing"] == 2.0 and ct["regular_volume"] is True
    cr = next(s for s in series if s["modality"] == "CR")
    assert cr["photometric"] == "MONOCHROME1"


def test_never_prints_patient_identifiers(run, ct_with_phi):
    for args in (("inspect", ct_with_phi), ("inspect", "--json", ct_with_phi)):
        result = run(*args)
        assert result.exit_code == 0
        everything = result.stdout + result.stderr
        for value in FAKE_PHI.values():
            for part in value.split("^"):
                assert part not in everything
        assert "1.2.826" not in everything and "2.25." not in everything  # no UIDs either


def test_bad_files_are_listed_and_good_ones_shown(run, small_ct, pydicom_files):
    shutil.copy(pydicom_files / "test-SR.dcm", small_ct / "report.dcm")
    result = run("inspect", small_ct)
    assert result.exit_code == 0
    assert "skipped 1 file(s)" in result.stderr
    assert "report.dcm: Comprehensive SR Storage (SR) has no pixel data" in result.stderr
    assert "Axial phantom" in result.stdout


def test_gaps_are_shown_as_warnings(run, small_ct):
    sorted(small_ct.iterdir())[0].unlink()
    result = run("inspect", small_ct)
    assert result.exit_code == 0
    assert "gap after slice" in result.stdout or "instance number" in result.stdout


def test_description_with_rich_markup_is_printed_literally(run, small_ct):
    import pydicom

    for path in small_ct.iterdir():
        ds = pydicom.dcmread(path)
        ds.SeriesDescription = "[bold]T1[/bold] post"
        ds.save_as(path)
    result = run("inspect", small_ct)
    assert "[bold]T1[/bold] post" in result.stdout


class TestBadInput:
    def test_non_dicom_file(self, run, tmp_path):
        path = tmp_path / "scan.jpg"
        path.write_bytes(b"\xff\xd8\xff\xe0 not dicom")
        result = run("inspect", path)
        assert result.exit_code == 2
        assert result.stderr.strip() == "error: scan.jpg: not a DICOM file (no DICM preamble or file meta header)"
        assert result.stdout == ""

    def test_truncated_file(self, run, pydicom_files):
        result = run("inspect", pydicom_files / "MR_truncated.dcm")
        assert result.exit_code == 2
        assert result.stderr.strip() == "error: MR_truncated.dcm: truncated file: pixel data needs 8192 bytes but only 8130 remain"

    def test_object_without_pixels(self, run, pydicom_files):
        result = run("inspect", pydicom_files / "rtplan.dcm")
        assert result.exit_code == 2
        assert "rtplan.dcm: RT Plan Storage (RTPLAN) has no pixel data; nothing to show" in result.stderr

    def test_missing_path(self, run, tmp_path):
        result = run("inspect", tmp_path / "nowhere")
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1


def test_real_entry_point_prints_no_traceback_and_debug_does(tmp_path):
    path = tmp_path / "junk.dcm"
    path.write_bytes(b"junk")
    plain = subprocess.run([sys.executable, "-m", "readingroom", "inspect", str(path)], capture_output=True, text=True)
    assert plain.returncode == 2
    assert plain.stderr.strip() == "error: junk.dcm: not a DICOM file (no DICM preamble or file meta header)"
    debug = subprocess.run([sys.executable, "-m", "readingroom", "--debug", "inspect", str(path)], capture_output=True, text=True)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "InputError" in debug.stderr

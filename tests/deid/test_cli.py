"""`readingroom deid` as a user runs it: exit statuses, one-line errors, nothing half-written."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from typer.testing import CliRunner

from readingroom.cli import app

from .phi_corpus import PATIENT_A, build_corpus


@pytest.fixture
def small(tmp_path):
    return build_corpus(tmp_path / "incoming", slices=2, with_images=False)


def _run(*args):
    return CliRunner().invoke(app, ["deid", *map(str, args)])


def test_clean_run_exits_0(small, tmp_path):
    result = _run(small.root, "-o", tmp_path / "out", "--key", tmp_path / "k" / "deid.key")
    assert result.exit_code == 0, result.output
    assert "6 of 6 files written" in result.stderr
    assert json.loads((tmp_path / "out" / "deid-report.json").read_text())["counts"]["written"] == 6


def test_missing_source_is_one_line_and_writes_nothing(tmp_path):
    result = _run(tmp_path / "nowhere", "-o", tmp_path / "out", "--key", tmp_path / "k" / "deid.key")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "nowhere: no such file or folder" in result.stderr
    assert not (tmp_path / "out").exists()


def test_folder_without_dicom_is_bad_input(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not an image")
    result = _run(tmp_path / "notes", "-o", tmp_path / "out", "--key", tmp_path / "k" / "deid.key")
    assert result.exit_code == 2
    assert "no DICOM files found" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unreadable_key_is_bad_input(small, tmp_path):
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "deid.key").mkdir()
    result = _run(small.root, "-o", tmp_path / "out", "--key", tmp_path / "k" / "deid.key")
    assert result.exit_code == 2
    assert "deid.key: cannot read the key file" in result.stderr and "--key" in result.stderr
    assert not (tmp_path / "out").exists()


def test_output_inside_source_is_refused(small, tmp_path):
    result = _run(small.root, "-o", small.root / "out", "--key", tmp_path / "k" / "deid.key")
    assert result.exit_code == 2
    assert "inside the source" in result.stderr


def test_held_back_files_exit_3_listed_by_index_without_names(small, tmp_path):
    folder = small.root / f"{PATIENT_A.family}_{PATIENT_A.given}"
    (folder / f"{PATIENT_A.family}_notes.txt").write_text("not DICOM")
    good = next(folder.rglob("*.dcm"))
    (folder / f"{PATIENT_A.family}_cut.dcm").write_bytes(good.read_bytes()[:400])  # truncated header
    result = _run(small.root, "-o", tmp_path / "out", "--key", tmp_path / "k" / "deid.key")
    assert result.exit_code == 3, result.output
    report = json.loads((tmp_path / "out" / "deid-report.json").read_text())
    held = {h["index"]: h["reason"] for h in report["held_back"]}
    assert len(held) == 2 and any(r.startswith("not a DICOM file") for r in held.values())
    for index in held:
        assert f"#{index}: " in result.stderr
    assert PATIENT_A.family not in result.stderr and PATIENT_A.family not in json.dumps(report)
    assert report["counts"]["written"] == 6


def test_zip_gives_the_same_files_as_the_folder(small, tmp_path):
    archive = tmp_path / "study.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in small.root.rglob("*.dcm"):
            zf.write(path, path.relative_to(small.root).as_posix())
    key = tmp_path / "k" / "deid.key"
    assert _run(small.root, "-o", tmp_path / "a", "--key", key).exit_code == 0
    assert _run(archive, "-o", tmp_path / "b", "--key", key).exit_code == 0
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*.dcm")}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*.dcm")}
    assert a == b and len(a) == 6


def test_a_killed_runs_temporaries_are_swept(small, tmp_path):
    out = tmp_path / "out" / "RR0000000000"
    out.mkdir(parents=True)
    (out / ".00001-abc.dcm.x1y2.deid-tmp").write_bytes(b"half a file")
    assert _run(small.root, "-o", tmp_path / "out", "--key", tmp_path / "k" / "deid.key").exit_code == 0
    assert not list((tmp_path / "out").rglob("*.deid-tmp"))


def test_dicomdir_source(small, tmp_path):
    import pydicom
    from pydicom.fileset import FileSet

    fileset = FileSet()
    for path in sorted(small.root.rglob("*.dcm")):
        fileset.add(pydicom.dcmread(path))
    fileset.write(tmp_path / "cd")  # a CD layout: DICOMDIR plus files under PT000000/...
    result = _run(tmp_path / "cd" / "DICOMDIR", "-o", tmp_path / "out", "--key", tmp_path / "k" / "deid.key")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").rglob("*.dcm"))) == 6


def test_library_dataset_copy_leaves_the_input_alone(small):
    import pydicom

    from readingroom.deid import deidentify_dataset

    source = pydicom.dcmread(next(small.root.rglob("*.dcm")))
    name = str(source.PatientName)
    out = deidentify_dataset(source, bytes(range(32)))
    assert str(source.PatientName) == name and "ACME PHI CREATOR" in str(source)
    assert out.PatientName != name and out.PatientIdentityRemoved == "YES"
    assert not [e for e in out.iterall() if e.tag.is_private]


def test_without_ocr_images_needing_it_are_held_back_never_written(tmp_path, monkeypatch):
    from readingroom.deid import deidentify

    corpus = build_corpus(tmp_path / "incoming", slices=1, with_images=True)
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))  # no tesseract to be found
    report = deidentify(corpus.root, tmp_path / "out", key_path=tmp_path / "k" / "deid.key", workers=1)
    assert report.written == 3  # the CT slices
    reasons = sorted(h.reason.split(":")[0] for h in report.held_back)
    assert reasons == ["flagged BurnedInAnnotation", "secondary capture", "ultrasound"]
    assert all("cannot check burned-in text: install tesseract-ocr" in h.reason for h in report.held_back)
    import pydicom

    written = [pydicom.dcmread(p, stop_before_pixels=True).Modality for p in (tmp_path / "out").rglob("*.dcm")]
    assert written == ["CT"] * 3


def test_a_corrupt_jpeg2000_is_held_back_without_the_codecs_noise(pydicom_files, tmp_path):
    """A real process: what openjpeg prints on descriptor 2 would show there (CliRunner sees Python's stderr only)."""
    source = pydicom_files / "JPEG2000-embedded-sequence-delimiter.dcm"
    done = subprocess.run([sys.executable, "-m", "readingroom", "deid", str(source), "-o", str(tmp_path / "out"),
                           "--key", str(tmp_path / "deid.key")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 3 and "Pixel Data cannot be decoded" in done.stderr
    assert "Invalid number of tiles" not in done.stderr and "marker segment" not in done.stderr, done.stderr

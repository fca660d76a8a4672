import subprocess
import sys

import numpy as np
from PIL import Image

from readingroom.dicom import open_path, render_frame


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_default_is_the_middle_frame_with_the_header_window(run, small_ct, tmp_path):
    out = tmp_path / "key.png"
    result = run("snapshot", small_ct, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "frame 6 of 12" in result.stdout
    frame = open_path(small_ct).series[0].frames[5]
    np.testing.assert_array_equal(_png(out), render_frame(frame))  # header window 40/80


def test_window_and_frame_options(run, small_ct, tmp_path):
    out = tmp_path / "lung.png"
    assert run("snapshot", small_ct, "-o", out, "--frame", "3", "--window", "-600,1500").exit_code == 0
    frame = open_path(small_ct).series[0].frames[2]
    np.testing.assert_array_equal(_png(out), render_frame(frame, (-600, 1500)))


def test_preset_matches_the_same_window_given_by_numbers(run, small_ct, tmp_path):
    assert run("snapshot", small_ct, "-o", tmp_path / "a.png", "--preset", "bone").exit_code == 0
    assert run("snapshot", small_ct, "-o", tmp_path / "b.png", "--window", "480,2500").exit_code == 0
    np.testing.assert_array_equal(_png(tmp_path / "a.png"), _png(tmp_path / "b.png"))


def test_radiograph_is_not_shown_inverted(run, data_store_files, tmp_path):
    out = tmp_path / "cr.png"
    assert run("snapshot", data_store_files / "RG1_UNCR.dcm", "-o", out).exit_code == 0
    image = _png(out)
    # MONOCHROME1 (PS3.3 C.7.6.3.1.2): the minimum sample value is displayed white.
    import pydicom

    stored = pydicom.dcmread(data_store_files / "RG1_UNCR.dcm").pixel_array
    assert image[stored == stored.min()].mean() > 200
    assert image[stored == stored.max()].mean() < 55


def test_colour_ultrasound_keeps_its_colours(run, data_store_files, tmp_path):
    out = tmp_path / "us.png"
    result = run("snapshot", data_store_files / "OBXXXX1A.dcm", "-o", out, "--window", "40,400")
    assert result.exit_code == 0
    assert "colour images have no window" in result.stderr
    image = _png(out)
    assert image.shape == (600, 800, 3)
    assert (np.abs(image[..., 0].astype(int) - image[..., 2]) > 30).any()  # palette colour survives


class TestBadOptions:
    def test_window_needs_two_numbers(self, run, small_ct, tmp_path):
        result = run("snapshot", small_ct, "-o", tmp_path / "x.png", "--window", "40")
        assert result.exit_code == 2
        assert result.stderr.strip() == "error: --window '40' must be CENTER,WIDTH, e.g. --window 40,400"

    def test_frame_out_of_range(self, run, small_ct, tmp_path):
        result = run("snapshot", small_ct, "-o", tmp_path / "x.png", "--frame", "13")
        assert result.exit_code == 2
        assert "--frame 13 does not exist; series 1 has frames 1 to 12" in result.stderr

    def test_series_out_of_range(self, run, small_ct, tmp_path):
        result = run("snapshot", small_ct, "-o", tmp_path / "x.png", "--series", "4")
        assert result.exit_code == 2
        assert "--series 4 does not exist; this source has series 1 to 1" in result.stderr

    def test_unknown_preset(self, run, small_ct, tmp_path):
        result = run("snapshot", small_ct, "-o", tmp_path / "x.png", "--preset", "lungs")
        assert result.exit_code == 2 and "unknown window preset 'lungs'" in result.stderr

    def test_nothing_is_written_on_failure(self, run, pydicom_files, tmp_path):
        out = tmp_path / "x.png"
        result = run("snapshot", pydicom_files / "JPEG2000-embedded-sequence-delimiter.dcm", "-o", out)
        assert result.exit_code == 2
        assert "cannot decode JPEG 2000 Image Compression pixel data" in result.stderr
        assert list(tmp_path.iterdir()) == []

    def test_missing_output_folder(self, run, small_ct, tmp_path):
        result = run("snapshot", small_ct, "-o", tmp_path / "no" / "x.png")
        assert result.exit_code == 2 and "does not exist" in result.stderr


def test_a_corrupt_jpeg2000_is_one_line_and_exit_2_without_the_codecs_noise(pydicom_files, tmp_path):
    """A real process, so what openjpeg writes to descriptor 2 would show (CliRunner sees only Python's stderr)."""
    source, out = pydicom_files / "JPEG2000-embedded-sequence-delimiter.dcm", tmp_path / "x.png"
    command = [sys.executable, "-m", "readingroom", "snapshot", str(source), "-o", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: JPEG2000-embedded-sequence-delimiter.dcm: cannot decode JPEG 2000 Image "
                                  "Compression pixel data: pylibjpeg: ") and done.stderr.count("\n") == 1, done.stderr
    assert done.stdout == "" and list(tmp_path.iterdir()) == []
    debug = subprocess.run([command[0], "-m", "readingroom", "--debug", *command[3:]], capture_output=True, text=True,
                           timeout=120)
    assert debug.returncode != 0 and "Invalid number of tiles" in debug.stderr  # the codec's own words, under --debug

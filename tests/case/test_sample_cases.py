"""The sample cases shipped in cases/ must always pass `readingroom check`, run included."""

from pathlib import Path

import pytest

from readingroom.case import check_case

CASES = sorted(p for p in (Path(__file__).parents[2] / "cases").iterdir() if p.is_dir() and not p.name.startswith("."))


def test_there_are_samples_across_the_modalities():
    import nbformat

    modalities = set()
    for folder in CASES:
        modalities |= set(nbformat.read(folder / "case.ipynb", as_version=4).metadata["readingroom"]["modalities"])
    assert len(CASES) >= 6
    assert {"CT", "MR", "CR", "US", "NM"} <= modalities


@pytest.mark.parametrize("folder", CASES, ids=lambda p: p.name)
def test_sample_case_passes_check(folder):
    assert check_case(folder, execute=True).problems == []


def test_a_sample_is_a_real_volume_the_viewer_can_reformat():
    """Stack scrolling and coronal/sagittal reformats need a regular stack of many slices."""
    from readingroom.dicom import open_path

    volumes = [s for folder in CASES for s in open_path(folder / "images").series if s.frame_count >= 100]
    assert volumes, "no sample case holds a stack of 100 or more slices"
    brain = volumes[0]
    assert brain.regular and brain.slice_spacing == pytest.approx(1.0)
    assert brain.pixel_spacing is not None

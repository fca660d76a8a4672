import pytest

from readingroom.dicom import find_preset, presets_for
from readingroom.errors import InputError


def test_ct_presets_match_ohif_where_they_overlap():
    ours = {p.name: (p.center, p.width) for p in presets_for("CT")}
    ohif = {"brain": (40, 80), "lung": (-600, 1500), "liver": (90, 150), "bone": (480, 2500), "abdomen": (40, 400)}
    assert {name: ours[name] for name in ohif} == ohif


def test_every_preset_the_issue_names_exists():
    names = {p.name for p in presets_for("ct")}
    assert {"brain", "subdural", "stroke", "lung", "mediastinum", "abdomen", "liver", "bone"} <= names


def test_other_modalities_use_the_image_window():
    assert presets_for("MR") == () and presets_for("US") == () and presets_for("CR") == ()


def test_lookup_is_forgiving_about_case_and_aliases():
    assert find_preset("Lung").name == "lung"
    assert find_preset("soft-tissue").name == "abdomen"


def test_unknown_preset_lists_the_choices():
    with pytest.raises(InputError, match=r"unknown window preset 'lungs'; choose one of: brain, subdural, stroke, lung"):
        find_preset("lungs", "CT")

import pytest

from readingroom.case import metadata_problems, round_age


def valid() -> dict:
    return {
        "title": "Acute subdural haematoma", "presentation": "Confusion after a fall.",
        "age": {"value": 75, "unit": "years"}, "sex": "male", "modalities": ["CT"], "region": "head",
        "system": "neuro", "diagnosis": "Acute subdural haematoma", "certainty": "almost certain",
        "confirmation": "imaging appearance only", "difficulty": "primary", "training_level": ["generalist"],
        "objectives": ["Recognise a crescentic extra-axial collection"], "tags": ["trauma", "emergency"],
        "authors": [{"name": "A. Educator"}], "licence": "CC-BY-4.0",
        "provenance": [{"images": "images/", "source": "pydicom test data", "licence": "MIT"}], "minutes": 10,
    }


def test_a_complete_case_is_valid():
    assert metadata_problems(valid()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"age": {"value": 47, "unit": "years"}}, "age.value: adult ages are rounded to 5 years so a patient cannot be singled out (got 47)"),
        ({"certainty": "likely"}, "certainty: 'likely' is not one of: possible, probable, almost certain, certain"),
        ({"difficulty": "hard"}, "difficulty: 'hard' is not one of: primary, intermediate, advanced"),
        ({"modalities": []}, "modalities: [] should be non-empty"),
        ({"patient_name": "x"}, "metadata: unknown field(s) ('patient_name' was unexpected)"),
        ({"minutes": 0}, "minutes: 0 is less than the minimum of 1"),
    ],
)
def test_each_rule_names_the_field(change, message):
    assert metadata_problems({**valid(), **change}) == [message]


def test_children_keep_their_exact_age():
    assert metadata_problems({**valid(), "age": {"value": 7, "unit": "years"}}) == []


def test_missing_metadata_says_how_to_fix():
    assert metadata_problems(None) == ["notebook metadata has no `readingroom` object; run `readingroom new` or copy one from cases/"]


@pytest.mark.parametrize(("years", "rounded"), [(17, 17), (47, 45), (48, 50), (89, 90), (104, 90)])
def test_round_age(years, rounded):
    assert round_age(years) == rounded

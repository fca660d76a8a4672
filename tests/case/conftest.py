import pytest

from readingroom.case import new_case

from ..conftest import plant_phi



def fill_in(notebook) -> None:
    """What an educator does after `readingroom new`: replace every TODO."""
    meta = notebook.metadata["readingroom"]
    meta.update({
        "presentation": "Headache after a fall from standing height.",
        "system": "neuro",
        "confirmation": "imaging appearance only",
        "objectives": ["Recognise a crescentic extra-axial collection"],
        "authors": [{"name": "Test Educator"}],
        "provenance": [{"images": "images/", "source": "synthetic phantom made by the test suite", "licence": "CC0-1.0"}],
    })
    for cell in notebook.cells:
        if "TODO" in cell.source:
            cell.source = cell.source.replace("TODO: ", "").replace("TODO", "Written by the educator.")


@pytest.fixture
def study_with_phi(small_ct):
    return plant_phi(small_ct, PatientAge="047Y", PatientSex="F")


@pytest.fixture
def new_case_folder(tmp_path, study_with_phi):
    made = new_case("Phantom lesion", study_with_phi, tmp_path / "cases", key_path=tmp_path / "keys" / "deid.key")
    return made.folder


@pytest.fixture
def finished_case(new_case_folder):
    import nbformat

    path = new_case_folder / "case.ipynb"
    notebook = nbformat.read(path, as_version=4)
    fill_in(notebook)
    nbformat.write(notebook, path)
    return new_case_folder

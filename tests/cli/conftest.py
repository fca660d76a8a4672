import pydicom
import pytest
from typer.testing import CliRunner

from readingroom.cli import app

# Synthetic identifiers planted in the fixture: none may ever be printed.
FAKE_PHI = {
    "PatientName": "Fakename^Dorothea",
    "PatientID": "MRN-99-123456",
    "PatientBirthDate": "19470312",
    "InstitutionName": "Cedar Hollow Rural Clinic",
    "AccessionNumber": "ACC7731905",
    "ReferringPhysicianName": "Referrer^Quentin",
    "StudyDate": "20240611",
}


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture
def ct_with_phi(small_ct):
    for path in small_ct.iterdir():
        ds = pydicom.dcmread(path)
        for keyword, value in FAKE_PHI.items():
            setattr(ds, keyword, value)
        ds.save_as(path)
    return small_ct

"""The PACS tests share one Orthanc (tests/orthanc_fixtures.py) and a study loaded into it."""

from __future__ import annotations

import pytest

from tests.orthanc_fixtures import Orthanc, orthanc, synthetic_study  # noqa: F401  (the fixture)


@pytest.fixture(scope="session")
def pacs_study(orthanc: Orthanc, tmp_path_factory) -> str:
    """A two-series CT study carrying FAKE_PHI, in Orthanc; its Study Instance UID."""
    folder = tmp_path_factory.mktemp("pacs-study")
    study_uid = synthetic_study(folder, seed=1)
    orthanc.upload(folder)
    return study_uid

"""`readingroom new --from URL` against a real Orthanc: DICOMweb, C-GET, C-MOVE, and the ways it fails."""

from __future__ import annotations

import pydicom
import pytest

from tests.orthanc_fixtures import NO_GET_AET, PASSWORD, USER, synthetic_study
from tests.servers import free_port

from .tools import cli_env, identifiers_in, readingroom

SLICES_PER_SERIES, SERIES = 6, 2


def _import(tmp_path, url: str, *options: str, env: dict | None = None):
    return readingroom("new", "Phantom lesion", "--from", url, "--cases", str(tmp_path / "cases"),
                       "--key", str(tmp_path / "keys" / "deid.key"), *options, env=env)


def _images(case):
    return sorted((case / "images").rglob("*.dcm"))


def _assert_complete_and_clean(tmp_path, done, study_uid):
    assert done.returncode == 0, done.stderr
    case = tmp_path / "cases" / "phantom-lesion"
    images = _images(case)
    assert len(images) == SLICES_PER_SERIES * SERIES
    assert len({pydicom.dcmread(p).SeriesInstanceUID for p in images}) == SERIES
    assert identifiers_in(case, done.stdout, done.stderr, extra=(study_uid,)) == []
    assert "TODO" in (case / "case.ipynb").read_text()  # the same notebook `new` writes from a folder


def test_dicomweb_study_url_with_basic_credentials_from_the_environment(tmp_path, orthanc, pacs_study):
    env = cli_env(READINGROOM_DICOMWEB_USER=USER, READINGROOM_DICOMWEB_PASSWORD=PASSWORD)
    done = _import(tmp_path, f"{orthanc.dicomweb}/studies/{pacs_study}", env=env)
    _assert_complete_and_clean(tmp_path, done, pacs_study)


def test_dicomweb_credentials_from_netrc(tmp_path, orthanc, pacs_study):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    netrc.chmod(0o600)
    done = _import(tmp_path, f"{orthanc.dicomweb}/studies/{pacs_study}", env=cli_env(NETRC=str(netrc)))
    _assert_complete_and_clean(tmp_path, done, pacs_study)


def test_dicomweb_series_url_brings_that_series_only(tmp_path, orthanc, pacs_study):
    series = orthanc.session.get(f"{orthanc.dicomweb}/studies/{pacs_study}/series").json()[0]["0020000E"]["Value"][0]
    env = cli_env(READINGROOM_DICOMWEB_USER=USER, READINGROOM_DICOMWEB_PASSWORD=PASSWORD)
    done = _import(tmp_path, f"{orthanc.dicomweb}/studies/{pacs_study}/series/{series}", env=env)
    assert done.returncode == 0, done.stderr
    assert len(_images(tmp_path / "cases" / "phantom-lesion")) == SLICES_PER_SERIES


def test_c_get(tmp_path, orthanc, pacs_study):
    done = _import(tmp_path, orthanc.dimse(pacs_study))
    _assert_complete_and_clean(tmp_path, done, pacs_study)


def test_c_move_to_our_own_listener_when_c_get_is_refused(tmp_path, orthanc, pacs_study):
    port = free_port()
    orthanc.add_modality("noget", NO_GET_AET, port, AllowGet=False)
    done = _import(tmp_path, orthanc.dimse(pacs_study), "--calling-aet", NO_GET_AET, "--move-port", str(port))
    _assert_complete_and_clean(tmp_path, done, pacs_study)


def test_refused_c_get_without_a_move_port_says_what_to_do(tmp_path, orthanc, pacs_study):
    done = _import(tmp_path, orthanc.dimse(pacs_study), "--calling-aet", NO_GET_AET)
    assert done.returncode == 2
    assert "refused C-GET" in done.stderr and "--move-port" in done.stderr


def _bad_token(tmp_path):
    token = tmp_path / "token"
    token.write_text("not-the-token\n")
    return ["--token-file", str(token)]


@pytest.mark.parametrize("case, expected", [
    ("wrong host", "cannot reach 127.0.0.1:"),
    ("wrong AET", "refused the association"),
    ("unknown study by C-GET", "has no such study"),
    ("unknown study by DICOMweb", "has no such study"),
    ("bad token", "refused the credentials (HTTP 401)"),
])
def test_errors_are_one_line_and_exit_2(tmp_path, orthanc, pacs_study, case, expected):
    unknown = "1.2.3.4.5.6.7.8.9"
    url, options = {
        "wrong host": (f"dicom://ORTHANC@127.0.0.1:{free_port()}/{pacs_study}", []),
        "wrong AET": (orthanc.dimse(pacs_study, aet="NOTORTHANC"), []),
        "unknown study by C-GET": (orthanc.dimse(unknown), []),
        "unknown study by DICOMweb": (f"{orthanc.dicomweb}/studies/{unknown}", []),
        "bad token": (f"{orthanc.dicomweb}/studies/{pacs_study}", _bad_token(tmp_path)),
    }[case]
    env = cli_env(READINGROOM_DICOMWEB_USER=USER, READINGROOM_DICOMWEB_PASSWORD=PASSWORD) if "DICOMweb" in case else None
    done = _import(tmp_path, url, *options, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert pacs_study not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "cases").exists() or not any((tmp_path / "cases").iterdir())


def test_a_key_object_selection_in_the_study_marks_where_the_viewer_starts(tmp_path, orthanc):
    import re

    import nbformat

    from readingroom.dicom import open_path

    from .tools import key_object

    study_uid = synthetic_study(tmp_path / "study", seed=70)
    key_object(tmp_path / "study", "Lesion on slice four")
    orthanc.upload(tmp_path / "study")
    done = _import(tmp_path, orthanc.dimse(study_uid))
    assert done.returncode == 0, done.stderr
    case = tmp_path / "cases" / "phantom-lesion"
    assert len(_images(case)) == SLICES_PER_SERIES * SERIES  # the KOS marks; it is not kept as an image
    notebook = nbformat.read(case / "case.ipynb", as_version=4)
    assert "Lesion on slice four" in notebook.cells[0].source
    cell = next(c.source for c in notebook.cells if "images" in c.metadata["tags"])
    series, frame = map(int, re.search(r'Viewer\("images", series=(\d+), frame=(\d+)\)', cell).groups())
    assert open_path(case / "images").series[series].frames[frame].dataset.InstanceNumber == 4

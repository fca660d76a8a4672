"""Parsing --from: a mistyped URL is one line naming the form expected, before any network use."""

from __future__ import annotations

import pytest

from readingroom.errors import InputError
from readingroom.inflow.locations import DicomWebStudy, DimseStudy, is_remote, parse_location

STUDY, SERIES = "1.2.840.113619.2.55.3", "1.2.840.113619.2.55.3.7"


class TestParseLocation:
    def test_dicomweb_study_and_series(self):
        assert parse_location(f"https://pacs.example:8443/dicom-web/studies/{STUDY}") == DicomWebStudy(
            "https://pacs.example:8443/dicom-web", STUDY)
        assert parse_location(f"http://h/wado/rs/studies/{STUDY}/series/{SERIES}/") == DicomWebStudy(
            "http://h/wado/rs", STUDY, SERIES)

    def test_dimse_with_and_without_series(self):
        assert parse_location(f"dicom://PACS@10.1.2.3:11112/{STUDY}") == DimseStudy("PACS", "10.1.2.3", 11112, STUDY)
        assert parse_location(f"dicom://PACS@pacs/{STUDY}/{SERIES}") == DimseStudy("PACS", "pacs", 104, STUDY, SERIES)

    def test_where_names_the_host_not_the_path(self):
        assert parse_location(f"https://pacs.example/dicom-web/studies/{STUDY}").where == "pacs.example"

    @pytest.mark.parametrize("url, message", [
        ("https://user:secret@pacs/dicom-web/studies/1.2", "put no credentials in the URL"),
        ("https://pacs/dicom-web/1.2.3", "not a DICOMweb study URL"),
        ("https://pacs/dicom-web/studies/1.2.x", "the study part is not a UID"),
        (f"dicom://pacs:104/{STUDY}", "name the PACS's AE title"),
        (f"dicom://PACS@pacs:99999/{STUDY}", "the port must be a number"),
        ("dicom://PACS@pacs:104/", "give the study UID"),
        ("ftp://pacs/x", "not a study location"),
    ])
    def test_bad_locations_are_one_line_that_never_repeats_the_url(self, url, message):
        with pytest.raises(InputError, match=message) as caught:
            parse_location(url)
        assert "secret" not in str(caught.value) and STUDY not in str(caught.value)

    def test_is_remote(self):
        assert is_remote("HTTPS://x") and is_remote("dicom://A@h/1") and not is_remote("/media/cdrom/DICOMDIR")

"""The certificate PDF carries every field a board checks, as text that can be read back."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from readingroom.curriculum import certificate_pdf, designation_statement, load_module
from readingroom.records import Certificate, Participant

from .conftest import valid_module

URL = "https://cme.example.org/verify/ABCDEFGH2345"


@pytest.fixture
def module(write_module):
    return load_module(write_module(valid_module()))


def _text(pdf: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(pdf))
    # Wrapped lines are joined back with spaces, as a reader of the page would.
    return " ".join(reader.pages[0].extract_text().split()), reader


def test_every_field_is_on_the_page(module):
    cert = Certificate(
        "ABCDEFGH2345",
        7,
        "Test module",
        3,
        datetime(2026, 3, 7, 16, tzinfo=UTC),
        module.name,
        "AMA PRA Category 1 Credit",
        "self-study",
        datetime(2026, 3, 5, 9, tzinfo=UTC),
    )
    text, reader = _text(certificate_pdf(cert, Participant(7, "Ana Ruiz", "NM-12345", "ana"), module, URL))
    assert len(reader.pages) == 1
    page = reader.pages[0].mediabox
    assert page.width > page.height  # landscape
    for field in (
        "Ana Ruiz",
        "Licence / board ID: NM-12345",
        "Test module",
        "5 March 2026 \u2013 7 March 2026",
        "Enduring material (self-study)",
        "0.75 AMA PRA Category 1 Credits\u2122",
        designation_statement("Example CME Office", 1.0, "self-study"),
        "Provider: Example CME Office",
        "Verification code: ABCDEFGH2345",
        URL,
    ):
        assert field in text, field


def test_live_certificate_on_a4(module):
    day = datetime(2026, 3, 7, 18, tzinfo=UTC)
    cert = Certificate(
        "LIVE23456789", 8, "Test module", 4, day, module.name, "AMA PRA Category 1 Credit", "live", day, 3
    )
    pdf = certificate_pdf(cert, Participant(8, "Bo Chen", None, None), module, URL, pagesize="a4")
    text, reader = _text(pdf)
    assert round(float(reader.pages[0].mediabox.width)) == 842  # A4 landscape, in points
    assert "Dates: 7 March 2026 Format: Live activity" in text
    assert "1.0 AMA PRA Category 1 Credit\u2122" in text
    assert "designates this live activity for a maximum of 1.0" in text
    assert "Licence" not in text  # no empty licence line


def test_names_are_printed_literally_not_as_markup(module):
    cert = Certificate("ABCDEFGH2345", 7, "Module <b>bold</b> & more", 1, datetime(2026, 3, 7, tzinfo=UTC))
    text, _ = _text(certificate_pdf(cert, Participant(7, "A <i>B</i>", None, None), module, URL))
    assert "Module <b>bold</b> & more" in text and "A <i>B</i>" in text


def test_names_beyond_latin_1_and_long_names_print_whole(module):
    cert = Certificate("ABCDEFGH2345", 7, "Test module", 1, datetime(2026, 3, 7, tzinfo=UTC))
    text, _ = _text(
        certificate_pdf(cert, Participant(7, "\u0141ukasz Nguy\u1ec5n \u00d6zt\u00fcrk", None, None), module, URL)
    )
    assert "\u0141ukasz Nguy\u1ec5n \u00d6zt\u00fcrk" in text
    long_name = "Dr " + " ".join(["Maximiliana"] * 12)
    _, reader = _text(certificate_pdf(cert, Participant(7, long_name, None, None), module, URL))
    starts = []
    reader.pages[0].extract_text(visitor_text=lambda t, cm, tm, *_: starts.append((t, tm[4] * cm[0] + cm[4])))
    [(_, x)] = [(t, x) for t, x in starts if long_name in t]
    assert x > 27  # starts inside the border, so the centred line is not cut off at either side

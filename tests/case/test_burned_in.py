"""Hole 1 of issue 13: a case image whose headers are clean but whose pixels carry a name.

Another tool cleaned the headers and left the Burned In Annotation flag absent or a stale NO;
`readingroom check` and `serve`'s gate must read the pixels anyway and refuse the case.
"""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from readingroom.case import check_case
from readingroom.cli import app
from readingroom.server.gate import CaseGate
from tests.system_packages import require

from ..deid.phi_corpus import header_clean_us

KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def _ocr():
    require("tesseract")


@pytest.fixture(params=[None, "NO"], ids=["flag-absent", "flag-NO"])
def case_with_burned_in_us(request, finished_case):
    header_clean_us(finished_case / "images" / "echo.dcm", KEY, request.param)
    return finished_case


def test_check_reads_the_pixels_and_names_burned_in_text(case_with_burned_in_us):
    problems = check_case(case_with_burned_in_us, execute=False).problems
    assert problems and all(p.startswith("images/echo.dcm: frame 1:") for p in problems), problems
    assert "burned-in text (ultrasound)" in problems[0]


def test_check_cli_fails_with_a_line_naming_burned_in_text(case_with_burned_in_us):
    result = CliRunner().invoke(app, ["check", "--no-execute", str(case_with_burned_in_us)])
    assert result.exit_code == 1
    assert "images/echo.dcm: frame 1:" in result.stdout and "burned-in text" in result.stdout


def test_serve_gate_withholds_the_case(case_with_burned_in_us):
    gate = CaseGate(case_with_burned_in_us.parent)
    assert not gate.passes(case_with_burned_in_us.name)
    assert any("burned-in text" in p for p in gate.problems(case_with_burned_in_us.name))


def test_a_masked_ultrasound_passes(finished_case, tmp_path):
    from readingroom.deid import deidentify

    source = tmp_path / "us-source"
    header_clean_us(source / "echo.dcm", KEY, None)
    deidentify(source, tmp_path / "us-out", key_path=tmp_path / "k" / "deid.key", workers=1)
    shutil.copy(next((tmp_path / "us-out").rglob("*.dcm")), finished_case / "images" / "echo.dcm")
    assert check_case(finished_case, execute=False).problems == []


def test_a_missing_ocr_engine_is_an_error_not_a_pass(case_with_burned_in_us, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no tesseract program on the path
    problems = check_case(case_with_burned_in_us, execute=False).problems
    assert problems == ["images/echo.dcm: cannot check burned-in text: install tesseract-ocr"]

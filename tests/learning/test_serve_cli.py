"""`readingroom serve --curriculum`: a missing folder or a broken module is one line and exit 2, before any server starts."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from readingroom.cli import app
from tests.learning.conftest import MODULE_FILE


def test_a_missing_curriculum_folder_is_named(learning_dir, tmp_path):
    result = CliRunner().invoke(app, ["serve", str(learning_dir / "cases"), "--curriculum", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "--curriculum" in result.output and "no such folder" in result.output


def test_a_broken_module_stops_serve_with_its_file_and_field(learning_dir, tmp_path):
    shutil.copytree(learning_dir / "cases", tmp_path / "cases")
    (tmp_path / "curriculum").mkdir()  # the default: beside the cases folder
    broken = MODULE_FILE.read_text().replace("pass_mark: 0.75", "pass_mark: 75")
    (tmp_path / "curriculum" / MODULE_FILE.name).write_text(broken)
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "cases")])
    assert result.exit_code == 2
    assert MODULE_FILE.name in result.output and "pass_mark" in result.output and "Traceback" not in result.output

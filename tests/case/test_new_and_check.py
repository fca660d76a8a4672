import json
import shutil

import nbformat
import pydicom
import pytest
from typer.testing import CliRunner

from readingroom.case import check_case, new_case, stages
from readingroom.cli import app
from readingroom.errors import InputError

from ..conftest import FAKE_PHI


def _notebook(folder):
    return nbformat.read(folder / "case.ipynb", as_version=4)


def _save(folder, notebook):
    nbformat.write(notebook, folder / "case.ipynb")


def _index(notebook, role: str) -> int:
    """0-based index of the first cell tagged ``role``."""
    return next(i for i, cell in enumerate(notebook.cells) if role in cell.metadata.get("tags", []))


class TestNew:
    def test_builds_a_deidentified_case_with_derived_metadata(self, new_case_folder):
        assert sorted(p.name for p in new_case_folder.iterdir()) == ["case.ipynb", "deid.json", "images"]
        meta = _notebook(new_case_folder).metadata["readingroom"]
        assert meta["title"] == "Phantom lesion"
        assert meta["modalities"] == ["CT"] and meta["region"] == "head"
        assert meta["age"] == {"value": 45, "unit": "years"} and meta["sex"] == "female"
        written = [p for p in (new_case_folder / "images").rglob("*") if p.is_file()]
        assert len(written) == 12
        for path in written:
            blob = path.read_bytes()
            for value in FAKE_PHI.values():
                assert value.split("^")[0].encode() not in blob
            assert str(path.relative_to(new_case_folder)).count("Fakename") == 0
        report = json.loads((new_case_folder / "deid.json").read_text())
        assert report["counts"]["written"] == 12

    def test_the_unknown_comes_first_and_answers_after_reveals(self, new_case_folder):
        notebook = _notebook(new_case_folder)
        parts = stages(notebook)
        assert len(parts) == 3
        unknown_tags = {t for i in parts[0].cell_indices for t in notebook.cells[i].metadata["tags"]}
        assert unknown_tags == {"history", "images", "question"}

    def test_a_multiple_choice_may_name_the_diagnosis_among_its_options(self, finished_case):
        notebook = _notebook(finished_case)
        question = next(c for c in notebook.cells if c.cell_type == "code" and "question" in c.metadata["tags"])
        question.source = question.source.replace("option B", "Phantom lesion")
        _save(finished_case, notebook)
        assert check_case(finished_case, execute=True).problems == []

    def test_existing_case_is_not_overwritten(self, tmp_path, new_case_folder, study_with_phi):
        with pytest.raises(InputError, match="already exists; choose another title or remove that folder"):
            new_case("Phantom lesion", study_with_phi, new_case_folder.parent, key_path=tmp_path / "keys" / "deid.key")

    def test_bad_source_leaves_nothing_behind(self, tmp_path):
        (tmp_path / "junk").mkdir()
        (tmp_path / "junk" / "a.txt").write_text("x")
        with pytest.raises(InputError):
            new_case("Anything", tmp_path / "junk", tmp_path / "cases", key_path=tmp_path / "keys" / "deid.key")
        assert list((tmp_path / "cases").iterdir()) == []

    def test_cli_prints_next_steps(self, tmp_path, study_with_phi, monkeypatch):
        monkeypatch.chdir(tmp_path)
        result = CliRunner().invoke(app, ["new", "Phantom lesion", "--from", str(study_with_phi), "--key", str(tmp_path / "k" / "deid.key")])
        assert result.exit_code == 0, result.stderr
        assert "created cases/phantom-lesion with 1 series" in result.stdout
        assert "replace every TODO" in result.stdout


class TestCheck:
    def test_a_fresh_case_lists_what_is_left_to_write(self, new_case_folder):
        problems = check_case(new_case_folder, execute=False).problems
        assert "metadata: 'system' is a required property" in problems
        assert "metadata presentation still holds the template's TODO" in problems
        findings = _index(_notebook(new_case_folder), "findings") + 1
        assert f"cell {findings} still holds the template's TODO text" in problems

    def test_a_finished_case_passes_and_runs_headless(self, finished_case):
        assert check_case(finished_case, execute=True).problems == []

    def test_answer_before_the_reveal_is_a_spoiler(self, finished_case):
        notebook = _notebook(finished_case)
        findings = next(c for c in notebook.cells if "findings" in c.metadata["tags"])
        notebook.cells.remove(findings)
        notebook.cells.insert(1, findings)
        _save(finished_case, notebook)
        problems = check_case(finished_case, execute=False).problems
        assert problems == ["cell 2 (findings) comes before the first reveal point, so the audience sees the answer; move it after a cell tagged 'reveal'"]

    def test_diagnosis_named_in_the_unknown_is_a_spoiler(self, finished_case):
        notebook = _notebook(finished_case)
        notebook.cells[0].source += "\n\nQuery phantom lesion."
        _save(finished_case, notebook)
        assert check_case(finished_case, execute=False).problems == [
            "cell 1 shows 'Phantom lesion' before the first reveal point; the unknown would be given away"
        ]

    def test_identifier_in_the_narrative(self, finished_case):
        notebook = _notebook(finished_case)
        findings = _index(notebook, "findings")
        notebook.cells[findings].source += "\n\nCall the clinic on (555) 201-3344 or email dr.who@clinic.example.org."
        _save(finished_case, notebook)
        problems = check_case(finished_case, execute=False).problems
        assert len(problems) >= 1 and all(p.startswith(f"cell {findings + 1}: possible identifier") for p in problems)

    def test_identified_image_is_caught(self, finished_case, small_ct):
        intruder = next(small_ct.iterdir())
        ds = pydicom.dcmread(intruder)
        ds.PatientName, ds.PatientBirthDate = "Fakename^Dorothea", "19470312"
        ds.save_as(finished_case / "images" / "dropped-in.dcm")
        problems = check_case(finished_case, execute=False).problems
        assert any(p.startswith("images/dropped-in.dcm: (0012,0062) Patient Identity Removed is not YES") for p in problems)
        assert any(p.startswith("images/dropped-in.dcm: (0010,0030) PatientBirthDate still has a value") for p in problems)

    def test_private_tags_are_caught(self, finished_case):
        path = next(p for p in (finished_case / "images").rglob("*.dcm"))
        ds = pydicom.dcmread(path)
        block = ds.private_block(0x0029, "ACME 1.0", create=True)
        block.add_new(0x01, "LO", "scanner secret")
        ds.save_as(path)
        problems = check_case(finished_case, execute=False).problems
        assert any("(0029,1001) private attribute is present; private attributes must be removed" in p for p in problems)

    def test_script_and_event_handlers_in_a_case_are_named_by_cell(self, finished_case):
        notebook = _notebook(finished_case)
        findings, points = _index(notebook, "findings"), _index(notebook, "teaching-points")
        notebook.cells[findings].source += "\n\n<script>fetch('/steal?c=' + document.cookie)</script>"
        notebook.cells[points].source += '\n\n<img src="x.png" alt="" onerror="alert(1)"> and `<script>` in code is fine'
        _save(finished_case, notebook)
        result = CliRunner().invoke(app, ["check", "--no-execute", str(finished_case)])
        assert result.exit_code == 1
        assert f"cell {findings + 1}: raw <script> element; pages remove it, so take it out of the case" in result.stdout
        assert f"cell {points + 1}: event-handler attribute onerror= on <img>; pages remove it" in result.stdout
        assert check_case(finished_case, execute=False).problems == [
            f"cell {findings + 1}: raw <script> element; pages remove it, so take it out of the case",
            f"cell {points + 1}: event-handler attribute onerror= on <img>; pages remove it, so take it out of the case",
        ]

    def test_invalid_metadata(self, finished_case):
        notebook = _notebook(finished_case)
        notebook.metadata["readingroom"]["certainty"] = "sure"
        _save(finished_case, notebook)
        assert check_case(finished_case, execute=False).problems == [
            "certainty: 'sure' is not one of: possible, probable, almost certain, certain"
        ]

    def test_a_role_typo_is_reported(self, finished_case):
        notebook = _notebook(finished_case)
        points = _index(notebook, "teaching-points")
        notebook.cells[points].metadata["tags"] = ["teaching-point"]
        _save(finished_case, notebook)
        assert check_case(finished_case, execute=False).problems == [
            f"cell {points + 1}: tag 'teaching-point' is not a role; did you mean one of the role tags?"
        ]

    def test_a_failing_notebook_is_reported(self, finished_case):
        notebook = _notebook(finished_case)
        notebook.cells[_index(notebook, "images")].source = "Viewer('images')"  # forgot the import
        _save(finished_case, notebook)
        assert check_case(finished_case, execute=True).problems == ["the notebook fails when run: NameError: name 'Viewer' is not defined"]

    def test_missing_pieces(self, finished_case):
        (finished_case / "deid.json").unlink()
        assert check_case(finished_case, execute=False).problems == [
            "deid.json is missing; images must come through `readingroom new` or `readingroom deid`"
        ]
        shutil.rmtree(finished_case / "images")
        assert check_case(finished_case, execute=False).problems == ["images/ is missing; a case needs its de-identified images"]
        (finished_case / "case.ipynb").write_text("{not json")
        assert check_case(finished_case, execute=False).problems[0].startswith("case.ipynb is not a valid notebook")

    def test_cli_exit_status(self, finished_case, new_case_folder):
        runner = CliRunner()
        ok = runner.invoke(app, ["check", "--no-execute", str(finished_case)])
        assert ok.exit_code == 0 and "ok" in ok.stdout
        notebook = _notebook(finished_case)
        notebook.metadata["readingroom"]["minutes"] = 0
        _save(finished_case, notebook)
        bad = runner.invoke(app, ["check", "--no-execute", str(finished_case)])
        assert bad.exit_code == 1
        assert "FAIL" in bad.stdout and "minutes: 0 is less than the minimum of 1" in bad.stdout

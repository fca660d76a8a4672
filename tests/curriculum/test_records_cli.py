"""`readingroom records` and `readingroom check` on modules, as a coordinator or an author uses them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from readingroom.cli import app

from .conftest import valid_module

T0 = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
AMA = "AMA PRA Category 1 Credit"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


def _one_error_line(result, text: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], result.stderr


class TestExport:
    def test_csv_has_the_fields_boards_ask_for(self, run, store):
        ana = store.add_participant("Ana Ruiz", licence_id="NM-12345")
        bo = store.add_participant("=Bo Chen")  # would run as a spreadsheet formula
        store.issue_certificate(ana.id, "First look", 3, at(60), credit_type=AMA, format="self-study")
        store.issue_certificate(bo.id, "Tuesday conference", 4, at(60 * 24), credit_type=AMA, format="live")
        result = run("records", "export", "--format", "csv", "--records", store.url)
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert rows[0] == [
            "name",
            "licence_id",
            "activity",
            "completion_date",
            "credit_type",
            "credits",
            "format",
            "certificate_code",
        ]
        assert rows[1][:7] == ["Ana Ruiz", "NM-12345", "First look", "2026-03-05", AMA, "0.75", "self-study"]
        assert rows[2][:7] == ["'=Bo Chen", "", "Tuesday conference", "2026-03-06", AMA, "1.0", "live"]
        assert [store.certificate(r[7]).participant_id for r in rows[1:]] == [ana.id, bo.id]

    def test_to_a_file_and_by_date(self, run, store, tmp_path):
        ana = store.add_participant("Ana Ruiz")
        store.issue_certificate(ana.id, "Early", 1, at(0))
        store.issue_certificate(ana.id, "Late", 2, at(60 * 48))
        out = tmp_path / "credits.csv"
        result = run("records", "export", "--since", "2026-03-06", "--out", out, "--records", store.url)
        assert result.exit_code == 0, result.output
        assert "wrote 1 credit record(s)" in result.stdout
        rows = list(csv.reader(out.open(newline="")))
        assert [r[2] for r in rows[1:]] == ["Late"]

    def test_missing_output_folder(self, run, tmp_path):
        result = run(
            "records", "export", "--out", tmp_path / "absent" / "c.csv", "--records", f"sqlite:///{tmp_path}/r.sqlite"
        )
        _one_error_line(result, "does not exist")

    @pytest.mark.parametrize(
        "url, message",
        [
            ("nonsense://x", "is not a database URL"),
            ("sqlite:////nonexistent-folder/records.sqlite", "cannot open the records store"),
            (
                "postgresql+psycopg://rr:secret@127.0.0.1:1/rr",
                "cannot open the records store postgresql+psycopg://rr:***@",
            ),
        ],
    )
    def test_bad_records_url(self, run, url, message):
        result = run("records", "export", "--records", url)
        _one_error_line(result, message)
        assert "secret" not in result.stderr


class TestAttendance:
    def test_table_of_who_was_there(self, run, store):
        session = store.create_session("case", "chronic-subdural-haematoma-with-mass-effect", T0, at(60))
        ana = store.add_participant("Ana Ruiz", licence_id="NM-12345")
        bo = store.add_participant("Bo Chen")
        store.record_join(session.id, ana.id, at(2))
        store.record_leave(session.id, ana.id, at(20))
        store.record_reconnect(session.id, ana.id, at(27))
        store.record_join(session.id, bo.id, at(0))
        store.record_leave(session.id, bo.id, at(30))
        result = run("records", "attendance", session.id, "--records", store.url)
        assert result.exit_code == 0, result.output
        lines = [line.split("\u2502") for line in result.stdout.splitlines() if "Ruiz" in line or "Chen" in line]
        cells = [[c.strip() for c in line if c.strip()] for line in lines]
        assert cells == [
            ["Ana Ruiz", "NM-12345", "2026-03-05 18:02", "51", "1"],
            ["Bo Chen", "-", "2026-03-05 18:00", "30", "0"],
        ]
        assert "2 participant(s)" in result.stdout

    def test_missing_session(self, run, store):
        _one_error_line(run("records", "attendance", 42, "--records", store.url), "no conference session 42")


class TestAddUser:
    def test_password_from_stdin(self, run, store):
        result = run(
            "records",
            "add-user",
            "ana",
            "--name",
            "Dr Ana Ruiz",
            "--licence",
            "NM-12345",
            "--password-stdin",
            "--records",
            store.url,
            input="a long passphrase\n",
        )
        assert result.exit_code == 0, result.output
        person = store.authenticate("ana", "a long passphrase")
        assert (person.display_name, person.licence_id, person.is_educator) == ("Dr Ana Ruiz", "NM-12345", False)

    def test_hidden_prompt_asks_twice(self, run, store):
        result = run(
            "records",
            "add-user",
            "lee",
            "--name",
            "Dr Lee",
            "--educator",
            "--records",
            store.url,
            input="first try 1\nmistyped 1\nsecret pass\nsecret pass\n",
        )
        assert result.exit_code == 0, result.output
        assert "do not match" in result.output and "secret pass" not in result.output
        assert store.authenticate("lee", "secret pass").is_educator
        assert store.authenticate("lee", "first try 1") is None

    @pytest.mark.parametrize(
        "args, password, message",
        [
            (["ana"], "short", "at least 8 characters"),
            (["ana b"], "long enough", "use 1-64 letters, digits"),
            (["taken"], "long enough", "the username 'taken' is taken"),
        ],
    )
    def test_refusals(self, run, store, args, password, message):
        store.add_participant("Someone", username="taken", password="whatever1")
        result = run(
            "records",
            "add-user",
            *args,
            "--name",
            "Ana",
            "--password-stdin",
            "--records",
            store.url,
            input=password + "\n",
        )
        _one_error_line(result, message)


class TestCheckModules:
    def test_valid_module_and_folder(self, run, write_module, tree):
        path = write_module(valid_module())
        result = run("check", path)
        assert result.exit_code == 0, result.output
        assert f"ok   {path}" in result.stdout
        assert f"ok   {path}" in run("check", tree / "curriculum").stdout

    def test_invalid_module_fails_with_its_problems(self, run, write_module):
        data = valid_module()
        data["cases"][1] = "no-such-case"
        data["post_test"][0]["answer"] = 9
        bad = write_module(data, name="bad")
        good = write_module(valid_module(), name="good")
        result = run("check", bad, good)
        assert result.exit_code == 1
        assert f"FAIL {bad}" in result.stdout and f"ok   {good}" in result.stdout
        assert "- post_test.0.answer: 9 is out of range" in result.stdout
        assert "- cases.1: no case 'no-such-case'" in result.stdout
        assert "1 of 2 case(s) and module(s) failed" in result.stdout

    def test_missing_path(self, run, tree):
        _one_error_line(run("check", tree / "absent"), "no such case folder or module file")


def test_attendance_of_a_running_session_counts_up_to_now(run, store):
    session = store.create_session("module", "first-look-emergency-reads", datetime.now(UTC) - timedelta(minutes=20))
    ana = store.add_participant("Ana Ruiz")
    store.record_join(session.id, ana.id, session.starts_at)
    result = run("records", "attendance", session.id, "--records", store.url)
    assert result.exit_code == 0, result.output
    assert "(still running)" in result.stdout
    [row] = [line for line in result.stdout.splitlines() if "Ana Ruiz" in line]
    assert int(row.split("\u2502")[4]) >= 20

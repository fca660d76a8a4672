"""`readingroom conference start` as a user runs it: what it prints, the QR code it writes, how it refuses."""

from __future__ import annotations

import shutil
import socket

import numpy as np
import pytest
import segno
from PIL import Image
from typer.testing import CliRunner

from readingroom.cli import app
from readingroom.server.catalog import public_id
from tests.conference.conftest import CASE, CASES, PUBLIC_URL, request, start_conference
from tests.servers import held_ports


def test_start_prints_the_secret_presenter_link_the_join_link_the_code_and_a_qr_code(live):
    lines = live.output.splitlines()
    assert lines[0] == "Presenter link (secret: whoever opens it drives the conference):"
    base = f"http://127.0.0.1:{live.server.port}"
    assert lines[1] == f"  {base}/readingroom/conference/{live.session}/present?token={live.token}"
    assert len(live.token) >= 43  # 32 random bytes, url-safe
    assert lines[2:4] == [f"Join link: {base}/join/{live.code}", f"Join code: {live.code}"]
    qr_rows = lines[4:lines.index(f"QR code of the join link: conference-{live.code}.png")]
    assert len(qr_rows) > 10 and all(set(row) <= set("█▀▄ ") for row in qr_rows)


def test_behind_a_proxy_the_links_and_the_consoles_qr_code_name_the_public_address(live_postgres):
    live = live_postgres
    assert live.join_url == f"{PUBLIC_URL}/join/{live.code}"
    assert f"  {PUBLIC_URL}/readingroom/conference/{live.session}/present?token={live.token}" in live.output
    status, console = request(live.server.port, "GET", f"/readingroom/conference/{live.session}/present?token={live.token}")
    assert status == 200 and f"{PUBLIC_URL}/join/{live.code}" in console and "127.0.0.1" not in console


def test_the_png_is_the_join_links_qr_code_at_scale_8(live):
    png = Image.open(live.workdir / f"conference-{live.code}.png")
    assert png.format == "PNG"
    expected = segno.make(live.join_url, error="m")
    assert png.size == expected.symbol_size(scale=8)
    modules = np.array(png.convert("L"))[::8, ::8] < 128  # one sample per module
    assert (modules == np.array([list(row) for row in expected.matrix_iter(border=4)], dtype=bool)).all()
    assert not list(live.workdir.glob(".conference-*.tmp"))  # written atomically, no leftovers


def test_a_conference_starts_from_a_case_folder_path_while_8866_is_held(tmp_path):
    """What tab completion gives (cases/<slug>/, no --cases), on a machine where `make serve` holds 8866."""
    with held_ports(8866):
        live = start_conference(tmp_path, f"sqlite:///{tmp_path / 'records.sqlite'}", command=("start", f"cases/{CASE}/"))
        try:
            presenter = live.presenter()
            assert [entry["case"] for entry in presenter.welcome["agenda"]] == [public_id(CASE)]
            presenter.close()
        finally:
            live.server.stop()


@pytest.fixture
def run(tmp_path, monkeypatch):
    """The CLI in-process, from an empty folder, with a records store of its own (refusals come before any server)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("READINGROOM_RECORDS", f"sqlite:///{tmp_path / 'records.sqlite'}")
    return lambda *args: CliRunner().invoke(app, ["conference", "start", *args])


@pytest.fixture
def busy_port():
    """A port held for the test: a command that gets as far as listening is refused there, before it starts."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


@pytest.mark.parametrize("args, message", [
    (("no-such-case", f"--cases={CASES}"), f"error: no-such-case: no such case in {CASES} nor module; cases there: "),
    ((CASE, f"--cases={CASES}", "--public-url=ftp://example.org"), "error: --public-url ftp://example.org: give the"),
    ((CASE, "--cases=/no/such/folder"), "error: /no/such/folder: no such folder"),
    ((CASE, f"--cases={CASES}", "--curriculum=/no/such/folder"), "error: --curriculum /no/such/folder: no such folder"),
    ((CASE, f"--cases={CASES}", "--qr=/no/such/folder/qr.png"), "error: --qr /no/such/folder/qr.png: give a .png file"),
    ((CASE, f"--cases={CASES}", "--qr=slide.svg"), "error: --qr slide.svg: give a .png file"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(run, tmp_path, args, message):
    done = run(*args)
    assert done.exit_code == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(message), done.stderr
    assert done.stdout == "" and list(tmp_path.iterdir()) == []


def test_an_unknown_name_lists_the_cases_and_the_modules(run):
    done = run("no-such-module", f"--cases={CASES}")
    assert "modules: first-look-emergency-reads, normal-first" in done.stderr and done.exit_code == 2


def test_a_busy_port_is_refused_before_anything_starts(run, tmp_path, busy_port):
    done = run(CASE, f"--cases={CASES}", f"--port={busy_port}")
    assert done.exit_code == 2 and f"--port {busy_port} on 127.0.0.1 is not available" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_default_port_is_checked_after_the_name(run):
    """With 8866 held (`make serve` running), a typo is still reported as a typo."""
    with held_ports(8866):
        done = run("no-such-case", f"--cases={CASES}")
    assert done.exit_code == 2 and "no-such-case: no such case" in done.stderr


@pytest.fixture
def project(tmp_path):
    """A project folder (cases/ and curriculum/ side by side), the current folder of `run`."""
    shutil.copytree(CASES / CASE, tmp_path / "cases" / CASE)
    (tmp_path / "curriculum").mkdir()
    (tmp_path / "curriculum" / "one-case.yaml").write_text((CASES.parent / "curriculum" / "normal-first.yaml").read_text())
    return tmp_path


@pytest.mark.parametrize("what", [f"cases/{CASE}", f"cases/{CASE}/", f"cases/{CASE}/case.ipynb", "curriculum/one-case.yaml"])
def test_a_case_folder_or_module_file_is_taken_as_its_name(run, project, busy_port, what):
    """A path names its case or module, which is found: the command gets as far as the (busy) port."""
    done = run(what, f"--port={busy_port}")
    assert done.exit_code == 2 and done.stderr.startswith(f"error: --port {busy_port} on 127.0.0.1"), done.stderr


@pytest.mark.parametrize("args, message", [
    (("cases/no-such-case/",), "error: cases/no-such-case/: no such case folder (holding case.ipynb) or module file"),
    (("curriculum/no-such.yaml",), "error: curriculum/no-such.yaml: no such case folder"),
    ((f"cases/{CASE}", "--cases=elsewhere"), "error: --cases elsewhere disagrees with the path given, which is in "),
])
def test_a_path_that_names_nothing_is_one_line(run, project, args, message):
    done = run(*args)
    assert done.exit_code == 2 and done.stderr.count("\n") == 1 and done.stderr.startswith(message), done.stderr

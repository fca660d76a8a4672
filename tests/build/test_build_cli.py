"""`readingroom build` from the command line: what it writes, what it leaves out, what a rebuild redoes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

from tests.build.conftest import run_build
from tests.servers import jupyter_env


def digests(folder) -> set[str]:
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def summary(done) -> str:
    """The line saying what was built (after it, where the pages' records go)."""
    return next(line for line in done.stdout.splitlines() if " case(s), " in line)


def test_rebuild_redoes_only_the_case_that_changed(cases_copy, tmp_path):
    site = tmp_path / "out" / "site"
    first = run_build(tmp_path, "-o", str(site), cases=cases_copy)
    assert first.returncode == 0, first.stderr
    assert summary(first).endswith("2 case(s), 0 module(s); 2 built, 0 unchanged")
    assert first.stdout.strip().splitlines()[-1] == "self-study only: no --server, so the site records no answers, tests or credit"
    pages = sorted(p.relative_to(site) for p in site.glob("cases/*/index.html"))
    assert len(pages) == 2

    again = run_build(tmp_path, "-o", str(site), cases=cases_copy)
    assert summary(again).endswith("0 built, 2 unchanged")

    notebook_path = cases_copy / "lymph-node-with-hilar-vascularity" / "case.ipynb"
    notebook = json.loads(notebook_path.read_text())
    notebook["cells"][0]["source"] = "## Presentation\n\nA lump in the neck, found by the patient."
    notebook_path.write_text(json.dumps(notebook))
    stages_before = set(site.glob("readingroom/cases/*/stages/*.json"))
    changed = run_build(tmp_path, "-o", str(site), cases=cases_copy)
    assert summary(changed).endswith("1 built, 1 unchanged")
    assert "A lump in the neck" in "".join(p.read_text() for p in site.glob("cases/*/index.html"))
    stages_after = set(site.glob("readingroom/cases/*/stages/*.json"))
    assert stages_after != stages_before  # the changed case was run again (its widgets have new ids) ...
    assert len(stages_after) == len(stages_before)  # ... and its old stage files are gone, not kept beside
    assert len(list(site.glob("readingroom/thumbnails/*.jpg"))) == 2  # the old version's thumbnail is gone


def test_no_dicom_file_reaches_the_site(cases_copy, tmp_path):
    site = tmp_path / "site"
    assert run_build(tmp_path, "-o", str(site), cases=cases_copy).returncode == 0
    raw = set().union(*(digests(case / "images") for case in cases_copy.iterdir()))
    assert raw and not raw & digests(site)
    assert not [p for p in site.rglob("*") if p.is_file() and p.read_bytes()[128:132] == b"DICM"]
    assert (tmp_path / "site.state.json").is_file() and not list(site.rglob("*.state.json"))  # it names the stage files


def test_a_name_that_is_no_case_or_module_is_one_line_and_writes_nothing(cases_copy, tmp_path):
    site = tmp_path / "site"
    done = run_build(tmp_path, "no-such-case", "-o", str(site), cases=cases_copy)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        (f"error: no-such-case is neither a case in {cases_copy} nor a module in {cases_copy.parent / 'curriculum'}: "
         "give a case folder's name or a module's file name without .yaml")]
    assert not site.exists()


def test_a_case_failing_the_phi_checks_is_refused_when_named_and_left_out_otherwise(cases_copy, tmp_path):
    leaky = cases_copy / "lymph-node-with-hilar-vascularity" / "case.ipynb"
    notebook = json.loads(leaky.read_text())
    notebook["cells"][0]["source"] = "## Presentation\n\nSeen in clinic, MRN 12345678."
    leaky.write_text(json.dumps(notebook))
    named = run_build(tmp_path, "lymph-node-with-hilar-vascularity", "-o", str(tmp_path / "named"), cases=cases_copy)
    assert named.returncode == 2
    assert "lymph-node-with-hilar-vascularity fails the de-identification checks" in named.stderr
    everything = run_build(tmp_path, "-o", str(tmp_path / "all"), cases=cases_copy)
    assert everything.returncode == 0, everything.stderr
    assert "left out lymph-node-with-hilar-vascularity" in everything.stdout
    assert len(list((tmp_path / "all").glob("cases/*/index.html"))) == 1
    assert "12345678" not in "".join(p.read_text(errors="replace") for p in (tmp_path / "all").rglob("*.html"))


def test_a_server_or_site_origin_that_is_no_address_is_one_line(cases_copy, tmp_path):
    done = run_build(tmp_path, "-o", str(tmp_path / "site"), "--server", "rr.example.org", cases=cases_copy)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: --server rr.example.org: give the address of your readingroom server, e.g. https://rr.example.org"]
    assert not (tmp_path / "site").exists()
    env = jupyter_env(tmp_path, tmp_path / "frame-cache", "serve")
    served = subprocess.run([sys.executable, "-m", "readingroom", "serve", str(cases_copy),
                             "--site-origin", "https://teaching.hospital.org/site/"],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert served.returncode == 2
    assert served.stderr.strip().splitlines() == [
        ("error: --site-origin 'https://teaching.hospital.org/site/' is not an origin: give scheme, host and port only, "
         "e.g. https://teaching.hospital.org")]

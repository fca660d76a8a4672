"""`jupyter nbconvert --to readingroom case.ipynb`: one HTML file whose viewers work opened from disk, offline."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from playwright.sync_api import expect

from tests.build.conftest import REPO
from tests.servers import jupyter_env

pytestmark = pytest.mark.browser
HEAD_CT = "chronic-subdural-haematoma-with-mass-effect"


def register_exporters(folder) -> str:
    """The nbconvert entry points pyproject.toml declares, as an installed distribution would publish them.

    The shared test environment is an editable install of another checkout, so this checkout's
    pyproject is read and its entry points put on the path the way an install would.
    """
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["nbconvert.exporters"]
    info = folder / "readingroom_exporters-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: readingroom-exporters\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[nbconvert.exporters]\n" + "".join(f"{k} = {v}\n" for k, v in declared.items()))
    return str(folder)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    work = tmp_path_factory.mktemp("export")
    case = shutil.copytree(REPO / "cases" / HEAD_CT, work / HEAD_CT)
    env = jupyter_env(work, work / "frame-cache", "export")
    env["PYTHONPATH"] = os.pathsep.join([env.get("PYTHONPATH", ""), register_exporters(work / "entry-points")])
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "readingroom", "case.ipynb"],
                          check=False, cwd=case, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return case / "case.html"


def test_the_exported_page_works_from_disk_with_no_network(browser, exported):
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(exported.as_uri())
    viewer = page.locator("[data-rr-viewer]")
    expect(viewer).to_have_attribute("data-tier", "lossless", timeout=60_000)
    viewer.focus()
    page.keyboard.press("2")  # the subdural window preset
    expect(viewer).to_have_attribute("data-window-width", "215")
    expect(page.get_by_text("crescentic extra-axial collection")).to_have_count(0)
    question = page.locator("[data-rr-question][data-kind=single]")
    question.get_by_label("Subdural").check()
    question.get_by_role("button", name="Submit").click()
    expect(question).to_have_attribute("data-state", "correct")
    page.get_by_role("button", name="Reveal Findings").click()
    expect(page.get_by_text("crescentic extra-axial collection")).to_be_visible()
    expect(question.get_by_role("status")).to_contain_text("displacing the brain: subdural")
    expect(viewer).to_have_attribute("data-annotations", "4")
    assert [u for u in requests if not re.match(r"(file|data):", u)] == []
    assert errors == []
    context.close()

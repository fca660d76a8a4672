"""The educator's inbox page in Chromium, on a real `readingroom serve`: a draft made by the receiver
becomes a case; a participant cannot see the page; axe finds nothing at WCAG 2.2 AA; it fits a phone."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pydicom
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from readingroom.deid import load_or_create_key
from readingroom.inflow.drafts import list_drafts
from readingroom.inflow.receiver import Receiver
from readingroom.records import RecordsStore
from readingroom.server.inbox import EDUCATORS_ONLY
from tests.orthanc_fixtures import synthetic_study
from tests.servers import Server, free_port, jupyter_env

SAMPLE = Path(__file__).resolve().parents[2] / "cases" / "chronic-subdural-haematoma-with-mass-effect"
EDUCATOR = {"display_name": "Dr Edu Cator", "username": "educator", "password": "a long educator passphrase"}
PARTICIPANT = {"display_name": "Dr Par Ticipant", "username": "participant", "password": "a long participant passphrase"}
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory):
    """`readingroom serve` over one sample case, with an inbox holding one draft the receiver made."""
    root = tmp_path_factory.mktemp("inbox")
    shutil.copytree(SAMPLE, root / "cases" / SAMPLE.name)
    study = root / "study"
    synthetic_study(study, seed=50, series=1, slices=8)
    receiver = Receiver(root / "inbox", load_or_create_key(root / "keys" / "deid.key"), quiet_s=0)
    for path in sorted(study.rglob("*.dcm")):
        assert receiver.store(pydicom.dcmread(path)) == 0
    assert len(receiver.draft_quiet_studies()) == 1
    env = jupyter_env(root, root / "frame-cache", "inbox")
    with RecordsStore(env["READINGROOM_RECORDS"]) as store:
        store.add_participant(EDUCATOR["display_name"], username=EDUCATOR["username"], password=EDUCATOR["password"],
                              is_educator=True)
        store.add_participant(PARTICIPANT["display_name"], username=PARTICIPANT["username"],
                              password=PARTICIPANT["password"])
    port = free_port()
    server = Server([sys.executable, "-m", "readingroom", "serve", str(root / "cases"), f"--port={port}",
                     "--pool-size=0", "--inbox", str(root / "inbox")], env, root, root / "serve.log", port, "modules")
    server.root = root
    yield server
    server.stop()


def _sign_in(page, server, person: dict) -> None:
    page.goto(f"{server.url}signin?next=/readingroom/inbox")
    page.fill("#username", person["username"])
    page.fill("#password", person["password"])
    page.click("button[type=submit]")


def test_the_page_fits_a_phone(browser, inbox_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        _sign_in(page, inbox_server, EDUCATOR)
        expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
        expect(page.get_by_role("button", name="Make a case")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_a_participant_cannot_see_the_inbox(page, inbox_server):
    _sign_in(page, inbox_server, PARTICIPANT)
    expect(page.get_by_text(EDUCATORS_ONLY)).to_be_visible()
    expect(page.get_by_role("heading", name="Inbox")).to_have_count(0)
    [draft] = list_drafts(inbox_server.root / "inbox")
    refused = page.request.post(f"{inbox_server.url}readingroom/inbox/{draft.name}/delete", form={"_xsrf": "x"},
                                headers={"Cookie": "_xsrf=x"})
    assert refused.status == 403 and list_drafts(inbox_server.root / "inbox") == [draft]


def test_an_educator_makes_a_case_from_a_draft(page, inbox_server):
    _sign_in(page, inbox_server, EDUCATOR)
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    [draft] = list_drafts(inbox_server.root / "inbox")
    image = page.get_by_role("img", name=f"Middle slice of {draft.title}")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    violations = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}}).response["violations"]
    assert violations == [], [v["id"] for v in violations]

    page.get_by_label("Case title (the diagnosis)").fill("Phantom lesion from the inbox")
    page.get_by_role("button", name="Make a case").click()
    expect(page.get_by_role("status")).to_contain_text("cases/phantom-lesion-from-the-inbox")
    case = inbox_server.root / "cases" / "phantom-lesion-from-the-inbox"
    assert (case / "case.ipynb").is_file() and (case / "deid.json").is_file()
    assert len(list((case / "images").rglob("*.dcm"))) == 8
    assert list_drafts(inbox_server.root / "inbox") == []
    expect(page.get_by_text("No drafts.")).to_be_visible()

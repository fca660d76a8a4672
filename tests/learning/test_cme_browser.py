"""The whole CME flow in Debian's Chromium on a real `readingroom serve` (records in SQLite)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from readingroom.records import RecordsStore
from readingroom.server.catalog import public_id
from tests.conftest import ConsoleLog
from tests.learning.conftest import STUDIED_MINUTES, TRAINEE, studied_earlier

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "module.png"


def answer(page, form: str, choices: dict[str, int]) -> None:
    for question_id, option in choices.items():
        page.check(f"#{form} input[name='{question_id}'][value='{option}']")
    page.click(f"#{form} button[type=submit]")


def heartbeat_since(records_url: str, module: str, moment: datetime) -> bool:
    with RecordsStore(records_url) as store:
        trainee = store.authenticate(TRAINEE["username"], TRAINEE["password"])
        return store.module_progress(trainee.id, module).last_heartbeat_at >= moment


def save_screenshot(page) -> None:
    from PIL import Image

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    picture = Image.open(io.BytesIO(page.screenshot(type="png", full_page=True))).convert("RGB").quantize(colors=64)
    picture.save(SCREENSHOT, optimize=True)


def test_whole_cme_flow(browser, learning_served, sample_module, tmp_path):
    context = browser.new_context(viewport={"width": 1024, "height": 900}, accept_downloads=True)
    page = context.new_page()
    console = ConsoleLog(page)
    received: list[str] = []
    module_url = f"{learning_served.url}modules/{sample_module.name}"
    started = datetime.now(UTC)

    studied_earlier(learning_served.records_url, sample_module.name, TRAINEE)

    # From the catalog to the modules: signing in first, then back where the trainee was going.
    page.goto(learning_served.url)
    page.get_by_role("link", name="Modules").click()
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fmodules$"))
    page.get_by_label("Username").fill(TRAINEE["username"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password")
    page.get_by_label("Password").fill(TRAINEE["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{learning_served.url}modules")
    page.get_by_role("link", name=sample_module.title).click()
    expect(page).to_have_url(module_url)
    received.append(page.content())

    # The pass mark and the disclosures come before any content; nothing else can be answered yet.
    expect(page.locator("#pass-mark")).to_contain_text("75%")
    for person in sample_module.faculty:
        expect(page.locator("#step-disclosures")).to_contain_text(person.name)
    expect(page.locator("#pre-form")).to_have_count(0)
    expect(page.locator("#step-cases a")).to_have_count(0)
    # Keyboard only: the page puts focus on the step to resume, so Tab reaches its button.
    expect(page.locator("#h-disclosures")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#acknowledge")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#step-disclosures .status")).to_have_text("Done")

    answer(page, "pre-form", {q.id: 0 for q in sample_module.pre_test})
    expect(page.locator("#step-pre-test")).to_contain_text("Your pre-test score: 1 of 3")
    received.append(page.content())

    # Each case opens in the same tab; back on the module page it is marked opened.
    for number, slug in enumerate(sample_module.cases, start=1):
        link = page.get_by_role("link", name=f"Case {number}", exact=True)
        case_url = re.compile(rf"/cases/{public_id(slug)}/\?module={sample_module.name}$")
        if number == 1:  # reading a case counts as time on task: its page sends the heartbeats
            with page.expect_request(lambda r: r.method == "POST" and r.url == f"{module_url}/heartbeat"
                                     and "/cases/" in (r.headers.get("referer") or "")) as beat:
                link.click()
            expect(page).to_have_url(case_url)
            assert beat.value.post_data == "resumed=1"  # the clock starts here; time before adds nothing
        else:
            with page.expect_navigation(url=case_url, wait_until="commit"):
                link.click()
        page.go_back()
        expect(page.locator("#step-cases li").nth(number - 1)).to_contain_text("Opened")
    expect(page.locator("#progress")).to_have_attribute("value", str(2 + len(sample_module.cases)))

    wrong = {q.id: (q.answer + 1) % len(q.options) for q in sample_module.post_test}
    answer(page, "post-form", wrong)
    expect(page.locator("#post-result")).to_have_text(
        "Not passed: 0 of 4 (0%); the pass mark is 75%. Review the cases and try again (2 attempts left).")
    received.append(page.content())
    save_screenshot(page)
    answer(page, "post-form", {q.id: q.answer for q in sample_module.post_test})
    expect(page.locator("#post-result")).to_have_text("Passed: 4 of 4 (100%).")

    assert int(page.locator("#time-on-task").inner_text()) >= STUDIED_MINUTES
    assert heartbeat_since(learning_served.records_url, sample_module.name, started)  # this page's own beats
    form = page.locator("#evaluation-form")
    form.get_by_label("Very good").check()
    form.locator("fieldset", has_text="objectives").get_by_label("Yes").check()
    form.get_by_label("What, if anything, will you change").fill("Compare subdural and brain density before dating.")
    form.locator("fieldset", has_text="commercial bias").get_by_label("Yes").check()
    form.get_by_role("button", name="Submit evaluation").click()
    expect(page.locator("#step-certificate")).to_contain_text("Credit awarded (self-study): 0.75 AMA PRA Category 1 Credits")
    code = page.locator(".certificate-code").inner_text()
    received.append(page.content())

    with page.expect_download() as download_info:
        page.click(".certificate-link")
    pdf = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf)
    from pypdf import PdfReader

    text = " ".join(page_.extract_text() for page_ in PdfReader(pdf).pages)
    for expected in (TRAINEE["display_name"], sample_module.title, "0.75", code, f"/verify/{code}"):
        assert expected in " ".join(text.split()), expected

    page.goto(f"{learning_served.url}verify/{code}")
    expect(page.locator("#verify-name")).to_have_text(TRAINEE["display_name"])
    expect(page.locator("#verify-activity")).to_have_text(sample_module.title)
    expect(page.locator("#verify-credits")).to_have_text("0.75 AMA PRA Category 1 Credits\u2122")
    assert console.errors == []

    reply = page.goto(f"{learning_served.url}verify/ABCDEFGHJKLM")
    assert reply.status == 404
    expect(page.get_by_role("alert")).to_contain_text("No certificate with this code")

    # The answer key never reached the browser: no page marks a right option or carries the key.
    for html in received:
        assert "answer" not in html.lower()
        assert not re.search(r"correct|data-key", html, re.I)
    context.close()

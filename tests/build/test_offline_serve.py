"""A module saved for offline use on `readingroom serve`; answers made offline reach its records exactly once."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from readingroom.records import RecordsStore
from readingroom.server.catalog import public_id
from readingroom.server.learning.steps import Standing
from tests.browser.accessibility import violations
from tests.build.conftest import MODULE, REPO, TRAINEE
from tests.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
VIEWER = "[data-rr-viewer]"
SAVING = 240_000  # ms: saving runs each case once on the server, the first time it is asked for


def module_cases() -> list[str]:
    import yaml

    return yaml.safe_load((REPO / "curriculum" / f"{MODULE}.yaml").read_text())["cases"]


def trainee(served):
    with RecordsStore(served.records_url) as store:
        return store.authenticate(TRAINEE["username"], TRAINEE["password"])


def answers_of(served, person) -> list:
    with RecordsStore(served.records_url) as store:
        return store.question_answers(person.id)


def sign_in(page, served, username: str, password: str) -> None:
    page.goto(f"{served.url}signin?next=/modules/{MODULE}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{served.url}modules/{MODULE}")


def save_for_offline(page) -> None:
    save = page.get_by_role("button", name=re.compile("offline", re.IGNORECASE))
    expect(save).to_have_text("Save for offline")
    save.click()
    expect(page.locator("html")).to_have_attribute("data-rr-offline", "ready", timeout=SAVING)
    expect(page.locator("#rr-offline-status")).to_contain_text(re.compile(r"Saved for offline: \d+ files, [\d.]+ MB"))


def answer_first_question(page) -> None:
    question = page.locator("[data-rr-question]").first
    question.locator("input").first.check()
    question.get_by_role("button", name="Submit").click()
    expect(question).to_have_attribute("data-state", re.compile("correct|incorrect"))


def test_a_module_saved_on_serve_works_offline_and_its_records_land_once(browser, served):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sent = []
    page.on("request", lambda r: sent.append(r.post_data) if r.url.endswith("/readingroom/records") and r.method == "POST" else None)
    sign_in(page, served, TRAINEE["username"], TRAINEE["password"])
    page.locator("#acknowledge").click()
    for fieldset in page.locator("#pre-form fieldset").all():
        fieldset.locator("input").first.check()
    page.locator("#pre-form button[type=submit]").click()
    expect(page.locator("#step-cases")).to_have_class(re.compile("current"))

    save_for_offline(page)
    assert violations(page, "module saved for offline") == []

    context.set_offline(True)
    windowed = 0
    for number, slug in enumerate(module_cases(), start=1):
        page.goto(f"{served.url}modules/{MODULE}")  # the saved copy: every case a link, opened in order
        page.get_by_role("link", name=f"Case {number}", exact=True).click()  # the module's own link
        expect(page).to_have_url(re.compile(rf"/cases/{public_id(slug)}/\?module={MODULE}$"))
        viewer = page.locator(VIEWER).first
        expect(viewer).to_have_attribute("data-tier", "lossless", timeout=30_000)
        if viewer.get_by_text(re.compile(r"\bW [\d.]+ L ")).count():  # greyscale: the window moves (colour has none)
            width = viewer.get_attribute("data-window-width")
            viewer.focus()
            page.keyboard.press("Shift+ArrowRight")  # the window tool (the default) widens the window
            expect(viewer).not_to_have_attribute("data-window-width", width)
            windowed += 1
        viewer.focus()
        if int(viewer.get_attribute("data-frames")) > 1:
            frame = viewer.get_attribute("data-frame")
            page.keyboard.press("ArrowDown")
            expect(viewer).not_to_have_attribute("data-frame", frame)
        answer_first_question(page)
        page.get_by_role("button", name=re.compile("^Reveal")).click()
        expect(page.locator("#rr-revealed .rr-stage")).to_have_count(1)
        expect(page.locator("html")).to_have_attribute("data-rr-outbox", "waiting")
        expect(page.locator("[data-rr-outbox-status]")).to_contain_text("made offline wait")
    assert windowed >= 2
    assert violations(page, "case page offline, answers waiting") == []
    person = trainee(served)
    assert answers_of(served, person) == []  # nothing reached the server while offline

    context.set_offline(False)  # the "online" event sends them
    expect(page.locator("html")).to_have_attribute("data-rr-outbox", "sent", timeout=30_000)
    answers = answers_of(served, person)
    assert sorted(a.case_slug for a in answers) == sorted(module_cases())  # one row for each answer made
    assert {a.question_id for a in answers} == {"question-1"}
    with RecordsStore(served.records_url) as store:  # the cases opened offline count: the post-test is next
        standing = Standing.of(load_module(), store.module_progress(person.id, MODULE).position)
    assert standing.current == "post-test"

    # The same records again, as after a reply lost on the way back: nothing new is stored.
    batches = [body for body in sent if body and '"answer"' in body]
    assert batches
    for body in batches:
        reply = page.evaluate("""async (body) => {
            const r = await fetch("/readingroom/records", {method: "POST", body, headers: {"Content-Type": "application/json"}});
            return r.json(); }""", body)
        assert reply["refused"] == [] and len(reply["landed"]) == len(json.loads(body)["records"])
    assert len(answers_of(served, person)) == len(module_cases())

    # The module page fetched again online replaces the saved copy: offline, it offers the post-test,
    # which is kept on the device and scored by the server once the connection is back.
    page.goto(f"{served.url}modules/{MODULE}")
    expect(page.locator("#post-form")).to_be_visible()
    page.wait_for_function(f"""async () => {{
        const copy = await (await caches.open("readingroom-offline-{MODULE}")).match(location.href);
        return Boolean(copy) && (await copy.text()).includes('id="post-form"'); }}""")
    context.set_offline(True)
    page.reload()
    for question in load_module().post_test:
        page.check(f"#post-form input[name='{question.id}'][value='{question.answer}']")
    page.locator("#post-form button[type=submit]").click()
    expect(page.get_by_text("Kept on this device")).to_be_visible()
    assert violations(page, "post-test kept offline") == []
    with RecordsStore(served.records_url) as store:
        assert store.test_attempts(person.id, MODULE, "post") == []
    context.set_offline(False)
    expect(page.locator("html")).to_have_attribute("data-rr-outbox", "sent", timeout=30_000)
    with RecordsStore(served.records_url) as store:
        assert [a.passed for a in store.test_attempts(person.id, MODULE, "post")] == [True]
    assert errors == []
    context.close()


def load_module():
    from readingroom.curriculum import load_module as load

    return load(REPO / "curriculum" / f"{MODULE}.yaml")


def test_answers_made_offline_are_sent_after_the_browser_was_closed_and_opened_again(browser, served, tmp_path):
    """Answered at night with no network, the browser closed; opened again the next day, the answer lands once."""
    person = {"display_name": "Dr Closed Browser", "username": "closed", "password": "closed the browser overnight"}
    with RecordsStore(served.records_url) as store:
        participant = store.add_participant(**person)

    def launch(offline: bool):
        return browser.browser_type.launch_persistent_context(
            tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, offline=offline)

    context = launch(offline=False)
    page = context.new_page()
    sign_in(page, served, person["username"], person["password"])
    save_for_offline(page)
    context.set_offline(True)
    slug = module_cases()[1]
    page.goto(f"{served.url}cases/{public_id(slug)}/")
    expect(page.locator(VIEWER).first).to_have_attribute("data-tier", "lossless", timeout=30_000)
    answer_first_question(page)
    expect(page.locator("html")).to_have_attribute("data-rr-outbox", "waiting")
    context.close()
    assert answers_of(served, participant) == []

    for _ in range(2):  # opened again twice: the answer is sent the first time, and never again
        context = launch(offline=False)
        page = context.new_page()
        page.goto(f"{served.url}modules/{MODULE}")
        expect(page.locator("html")).to_have_attribute("data-rr-outbox", "sent", timeout=30_000)
        context.close()
        assert [a.case_slug for a in answers_of(served, participant)] == [slug]


def test_records_from_a_site_not_allowed_are_refused(served, site_port):
    """Only the configured site origin gets CORS; any other origin's preflight and POST are refused."""
    from tests.servers import fetch_from

    path = "/readingroom/records"
    body = json.dumps({"records": []}).encode()
    allowed = f"http://127.0.0.1:{site_port}"
    for origin, status in ((allowed, 204), ("http://evil.example", 403)):
        code, headers, _ = fetch_from("127.0.0.1", served.port, "OPTIONS", path, headers={
            "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
        assert code == status
        assert headers.get("Access-Control-Allow-Origin") == (origin if status == 204 else None)
    code, headers, reply = fetch_from("127.0.0.1", served.port, "POST", path, body,
                                      {"Origin": "http://evil.example", "Content-Type": "application/json"})
    assert code == 403 and b"--site-origin" in reply and headers.get("Access-Control-Allow-Origin") is None
    code, _, reply = fetch_from("127.0.0.1", served.port, "POST", path, body, {"Origin": allowed, "Content-Type": "text/plain"})
    assert code == 415  # what a plain form could send, with no preflight: never taken

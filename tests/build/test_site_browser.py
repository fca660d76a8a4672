"""The built site in Debian's Chromium, served by `python -m http.server` under a path prefix."""

from __future__ import annotations

import json
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from readingroom.case.roles import stages
from readingroom.server.catalog import public_id
from tests.build.conftest import REPO

pytestmark = pytest.mark.browser
VIEWER = "[data-rr-viewer]"
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
        "resultTypes": ["violations"]}
HEAD_CT = "chronic-subdural-haematoma-with-mass-effect"
SLUGS = sorted(p.parent.name for p in (REPO / "cases").glob("*/case.ipynb"))


class Watched:
    """A fresh browser context that records every request and every text response of its page."""

    def __init__(self, browser, site_origin: str):
        self.context = browser.new_context(viewport={"width": 1100, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.bodies: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("response", self._keep_text)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.origin = site_origin

    def _keep_text(self, response) -> None:
        kind = response.headers.get("content-type", "")
        if response.ok and any(t in kind for t in ("text", "json", "javascript")):
            self.bodies.append((response.url, response.text()))

    def elsewhere(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(self.origin) and not u.startswith("data:")]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser, static_server):
    found = Watched(browser, static_server.url)
    yield found
    found.close()


def later_texts(slug: str) -> list[str]:
    """Sentences only a later stage holds: the first line of prose of each later stage."""
    notebook = json.loads((REPO / "cases" / slug / "case.ipynb").read_text())
    texts = []
    for stage in stages(notebook)[1:]:
        for index in stage.cell_indices:
            cell = notebook["cells"][index]
            lines = [line.strip() for line in "".join(cell["source"]).splitlines()]
            prose = [line for line in lines if len(line) > 40 and not line.startswith(("#", "-", "1."))]
            if cell["cell_type"] == "markdown" and prose:
                texts.append(prose[0][:60])
                break
    return texts


def assert_accessible(page) -> None:
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def test_catalog_links_every_case_and_its_filters_work(watched, static_server):
    page = watched.page
    page.goto(static_server.site)
    cards = page.locator(".card")
    expect(cards).to_have_count(len(SLUGS))
    hrefs = sorted(page.eval_on_selector_all(".card", "cards => cards.map(c => c.href)"))
    assert hrefs == sorted(f"{static_server.site}cases/{public_id(slug)}/" for slug in SLUGS)
    page.wait_for_function("[...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)")
    page.fill("#search", "chest")
    expect(cards).to_have_count(2)
    page.fill("#search", "")
    title = json.loads((REPO / "cases" / HEAD_CT / "case.ipynb").read_text())["metadata"]["readingroom"]["title"]
    expect(page.get_by_text(title)).to_have_count(0)
    page.locator("#unknown-mode").uncheck()
    expect(page.get_by_text(title)).to_be_visible()
    page.locator("#unknown-mode").check()
    assert_accessible(page)
    assert watched.elsewhere() == []
    assert watched.errors == []


@pytest.mark.parametrize("slug", SLUGS)
def test_each_case_paints_and_holds_no_later_stage_before_its_reveal(watched, static_server, slug):
    page = watched.page
    page.goto(f"{static_server.site}cases/{public_id(slug)}/")
    expect(page.get_by_role("heading", name="Unknown case")).to_be_visible()
    viewers = page.locator(VIEWER)
    expect(viewers.first).to_have_attribute("data-tier", re.compile("preview|lossless"), timeout=60_000)
    for k in range(viewers.count()):
        expect(viewers.nth(k)).to_have_attribute("data-tier", "lossless", timeout=60_000)
    hidden = later_texts(slug)
    diagnosis = json.loads((REPO / "cases" / slug / "case.ipynb").read_text())["metadata"]["readingroom"]["diagnosis"]
    for url, body in watched.bodies:
        for text in [*hidden, diagnosis]:
            assert text not in body, f"{url} holds later-stage text {text!r} before its reveal"
    assert_accessible(page)
    reveal, revealed = page.get_by_role("button", name=re.compile("^Reveal")), page.locator("#rr-revealed .rr-stage")
    for k in range(1, len(stages(json.loads((REPO / "cases" / slug / "case.ipynb").read_text())))):
        reveal.click()
        expect(revealed).to_have_count(k)
    expect(reveal).to_have_count(0)
    for text in hidden:
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
    assert watched.elsewhere() == []
    assert watched.errors == []


def test_a_question_says_wrong_then_right_and_the_next_stage_explains(watched, static_server):
    page = watched.page
    page.goto(f"{static_server.site}cases/{public_id(HEAD_CT)}/")
    question = page.locator("[data-rr-question][data-kind=single]")
    status = question.get_by_role("status")
    question.get_by_label("Extradural").check()
    question.get_by_role("button", name="Submit").click()
    expect(question).to_have_attribute("data-state", "incorrect")
    expect(status).to_contain_text("Incorrect.")
    expect(status).to_contain_text("1 attempt left")
    question.get_by_role("button", name="Try again").click()
    question.get_by_label("Subdural").check()
    question.get_by_role("button", name="Submit").click()
    expect(question).to_have_attribute("data-state", "correct")
    expect(status).to_contain_text("Correct.")
    explanation = "Crescentic, crossing suture lines, displacing the brain: subdural."
    expect(status).not_to_contain_text(explanation)  # it comes with the findings
    page.get_by_role("button", name="Reveal Findings").click()
    expect(status).to_contain_text(explanation)
    expect(status).to_contain_text("Yes: crescentic, spreading over the convexity")
    assert watched.errors == []


def test_module_pages_list_their_cases_and_say_self_study(watched, static_server):
    page = watched.page
    page.goto(static_server.site)
    page.get_by_role("link", name="Modules").click()
    page.get_by_role("link", name=re.compile("^Normal first")).click()
    expect(page.locator("#self-study")).to_contain_text("Self-study only")
    assert_accessible(page)
    page.get_by_role("link", name="Case 1").click()
    expect(page.locator(VIEWER)).to_have_attribute("data-tier", "lossless", timeout=60_000)
    assert watched.elsewhere() == []
    assert watched.errors == []

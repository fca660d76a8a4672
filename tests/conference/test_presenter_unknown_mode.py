"""The presenter console on a projected screen, in Debian's Chromium: the join QR code sits beside the
agenda, so the case's title (here the diagnosis itself) stays hidden until the case is revealed."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.accessibility import assert_passes_axe
from tests.conference.browser_fixtures import SLUG, VIEWER

pytestmark = pytest.mark.browser


def _metadata(server) -> dict:
    return json.loads((server.log.parent / "cases" / SLUG / "case.ipynb").read_text())["metadata"]["readingroom"]


def _title(server) -> str:
    return _metadata(server)["title"]


def test_the_presenter_may_turn_unknown_mode_off_on_their_own_screen(browser, conference_server):
    """First in this file: the conference is still at its first stage (the next test reveals it all)."""
    title = _title(conference_server)
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone, held by the presenter
    page = context.new_page()
    page.goto(conference_server.presenter_url)
    agenda = page.get_by_role("navigation", name="Agenda").get_by_role("button")
    toggle = page.get_by_role("button", name="Unknown mode")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(agenda).to_contain_text("Unknown case")
    toggle.press("Enter")  # a keyboard is enough
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(agenda).to_have_text(f"1. {title}")
    toggle.press("Enter")
    expect(agenda).not_to_contain_text(title)
    assert_passes_axe(page)  # at a phone's width too
    context.close()


def test_unknown_mode_hides_the_title_until_the_last_reveal(page, conference_server):
    title = _title(conference_server)
    presentation = _metadata(conference_server)["presentation"]
    page.goto(conference_server.presenter_url)
    expect(page.locator(VIEWER)).to_have_attribute("data-tier", "lossless", timeout=30_000)
    agenda = page.get_by_role("navigation", name="Agenda").get_by_role("button")
    expect(agenda).to_have_text(f"1. Unknown case: {presentation}")
    expect(page.get_by_role("button", name="Unknown mode")).to_have_attribute("aria-pressed", "true")
    assert title.lower() not in page.locator("body").inner_text().lower()
    assert_passes_axe(page)

    page.get_by_role("button", name="Reveal next").click()  # the findings: still no title
    expect(page.locator("#stage-label")).to_have_text("Stage 2 of 3 shown")
    expect(agenda).not_to_contain_text(title)
    page.get_by_role("button", name="Reveal next").click()  # the diagnosis: now the title may show
    expect(page.locator("#stage-label")).to_have_text("Stage 3 of 3 shown")
    expect(agenda).to_have_text(f"1. {title}")
    assert page.console.errors == []

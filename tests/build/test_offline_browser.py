"""A module saved for offline use on the static site, then opened with the network gone."""

from __future__ import annotations

import re

import pytest
import yaml
from playwright.sync_api import expect

from readingroom.server.catalog import public_id
from tests.build.conftest import REPO

pytestmark = pytest.mark.browser
MODULE = "normal-first"
VIEWER = "[data-rr-viewer]"


def module_cases() -> list[str]:
    return yaml.safe_load((REPO / "curriculum" / f"{MODULE}.yaml").read_text())["cases"]


def test_a_saved_module_opens_paints_and_answers_offline(browser, static_server):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{static_server.site}modules/{MODULE}/")
    save = page.get_by_role("button", name=re.compile("offline", re.IGNORECASE))
    expect(save).to_have_text("Save for offline")
    save.click()
    expect(page.locator("html")).to_have_attribute("data-rr-offline", "ready", timeout=120_000)
    expect(page.get_by_role("status").last).to_contain_text(re.compile(r"Saved for offline: \d+ files, [\d.]+ MB"))

    context.set_offline(True)
    windowed = 0
    for slug in module_cases():
        page.goto(f"{static_server.site}cases/{public_id(slug)}/")
        viewer = page.locator(VIEWER).first
        expect(viewer).to_have_attribute("data-tier", "lossless", timeout=30_000)
        if viewer.get_by_text(re.compile(r"\bW [\d.]+ L ")).count():  # greyscale: windowed (colour is not)
            width = viewer.get_attribute("data-window-width")
            box = viewer.locator("canvas").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()  # the window tool is the default: dragging sideways widens the window
            page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=4)
            page.mouse.up()
            expect(viewer).not_to_have_attribute("data-window-width", width)
            windowed += 1
        viewer.focus()
        if int(viewer.get_attribute("data-frames")) > 1:
            frame = viewer.get_attribute("data-frame")
            page.keyboard.press("ArrowDown")
            expect(viewer).not_to_have_attribute("data-frame", frame)
        question = page.locator("[data-rr-question]").first
        question.locator("input").first.check()
        question.get_by_role("button", name="Submit").click()
        expect(question).to_have_attribute("data-state", re.compile("correct|incorrect"))
        page.get_by_role("button", name=re.compile("^Reveal")).click()
        expect(page.locator("#rr-revealed .rr-stage")).to_have_count(1)

    assert windowed >= 2  # the shoulder MR and the bone scan

    page.goto(f"{static_server.site}modules/{MODULE}/")  # offline too
    page.get_by_role("button", name="Remove offline copy").click()
    expect(page.get_by_role("button", name="Save for offline")).to_be_visible()
    # The copy is gone from the browser's storage. (Opening a case now may still work for a minute from the
    # browser's ordinary HTTP cache, which python's http.server lets it keep: that is not ours to free.)
    assert f"readingroom-offline-{MODULE}" not in page.evaluate("caches.keys()")
    assert errors == []
    context.close()


def test_a_saved_module_is_still_there_after_the_browser_is_closed(browser, static_server, tmp_path):
    """The night-shift case: saved at the hospital, the browser closed, opened again at home with no network."""
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    def launch(offline: bool):
        return browser.browser_type.launch_persistent_context(
            tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, offline=offline)

    context = launch(offline=False)
    page = context.new_page()
    page.goto(f"{static_server.site}modules/{MODULE}/")
    page.get_by_role("button", name="Save for offline").click()
    expect(page.locator("html")).to_have_attribute("data-rr-offline", "ready", timeout=120_000)
    context.close()

    context = launch(offline=True)
    page = context.new_page()
    page.goto(f"{static_server.site}modules/{MODULE}/")
    expect(page.get_by_role("button", name="Remove offline copy")).to_be_visible()
    for slug in module_cases():
        page.goto(f"{static_server.site}cases/{public_id(slug)}/")
        expect(page.locator(VIEWER).first).to_have_attribute("data-tier", "lossless", timeout=30_000)
    context.close()

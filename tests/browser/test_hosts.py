"""The viewer in real hosts: our Voila app, JupyterLab (server extension), and plain Voila (comm fallback)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import viewer_checks as checks
from tests.browser.conftest import TOKEN

pytestmark = pytest.mark.browser


def _frame_requests(page) -> list[str]:
    seen = []
    page.on("request", lambda r: seen.append(r.url) if "/readingroom/" in r.url else None)
    return seen


def test_voila_app_serves_frames_over_http(page, voila):
    requests = _frame_requests(page)
    page.goto(voila.url)
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-transport", "http")
    expect(root).to_have_attribute("data-frame", "12")
    checks.check_scrolling(root)
    checks.check_windowing(root)
    checks.check_value_under_cursor(root)
    checks.check_length(root)
    checks.check_cine(root)
    assert any("/readingroom/static/" in u and u.endswith("/viewer.js") for u in requests)
    assert any("/readingroom/frames/" in u for u in requests)
    assert page.console.errors == []


def test_plain_voila_falls_back_to_the_comm(page, plain_voila):
    page.goto(plain_voila.url)
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-transport", "comm")
    checks.check_scrolling(root)
    checks.check_value_under_cursor(root)
    # stock Voila's CDN stylesheets and the probes of our absent handler fail to load; nothing else
    assert [e for e in page.console.errors if not e.startswith("Failed to load resource")] == []


def test_jupyterlab_runs_the_viewer_with_the_server_extension(page, jupyterlab):
    page.goto(f"{jupyterlab.url}lab/tree/phantom.ipynb?token={TOKEN}")
    page.locator(".jp-Notebook").wait_for(timeout=90_000)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=90_000)
    page.locator(".jp-Cell .jp-InputArea-editor").first.click()
    page.keyboard.press("Shift+Enter")
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-transport", "http")
    checks.check_scrolling(root)
    checks.check_windowing(root)
    checks.check_value_under_cursor(root)
    checks.check_length(root)
    # the kernel mirrors what the user did, and Python drives the view
    page.locator(".jp-Cell .jp-InputArea-editor").nth(1).click()
    page.keyboard.insert_text(
        "print(viewer.frame, viewer.window, [a['kind'] for a in viewer.annotations])\n"
        "viewer.frame = 5; viewer.window = 'lung'")
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".jp-OutputArea-output").filter(has_text="[480.0, 2500.0]")).to_have_text(
        "0 [480.0, 2500.0] ['length']")
    expect(root).to_have_attribute("data-frame", "5")
    expect(root).to_have_attribute("data-window-center", "-600")
    # a current study beside a "prior" with 4 mm slices (every other one): scrolling either keeps
    # both at the same level, in the browser, by slice position
    page.locator(".jp-Cell .jp-InputArea-editor").nth(2).click()
    page.keyboard.insert_text("import dataclasses\nfrom readingroom.widgets import side_by_side\n"
                              "s = viewer.current_series\n"
                              "prior = dataclasses.replace(s, frames=s.frames[::2], slice_spacing=4.0)\n"
                              "side_by_side(Viewer(s), Viewer(prior))")
    page.keyboard.press("Shift+Enter")
    pair = page.locator(checks.ROOT)
    expect(pair).to_have_count(3, timeout=60_000)
    left, right = pair.nth(1), pair.nth(2)
    checks.wait_painted(left)
    checks.wait_painted(right)
    expect(left).to_have_attribute("data-frame", "12")  # 24 mm into each stack
    expect(right).to_have_attribute("data-frame", "6")
    left.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(left).to_have_attribute("data-frame", "14")
    expect(right).to_have_attribute("data-frame", "7")  # 4 mm on: one slice of the prior
    right.focus()
    page.keyboard.press("ArrowUp")
    expect(right).to_have_attribute("data-frame", "6")
    expect(left).to_have_attribute("data-frame", "12")
    errors = [e for e in page.console.errors if not e.startswith("Failed to load resource")]
    assert errors == []

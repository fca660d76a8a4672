"""The viewer in real hosts: our Voila app, JupyterLab and Notebook 7 (server extension), plain Voila (comm)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import viewer_checks as checks
from tests.servers import TOKEN

pytestmark = pytest.mark.browser


def _frame_requests(page) -> list[str]:
    seen = []
    page.on("request", lambda r: seen.append(r.url) if "/readingroom/" in r.url else None)
    return seen


def _run_cell(page, index: int, code: str = "") -> None:
    """Type ``code`` into the notebook's cell ``index`` (JupyterLab and Notebook 7 share the DOM) and run it."""
    page.locator(".jp-Cell .jp-InputArea-editor").nth(index).click()
    if code:
        page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")


def _check_viewer_over_http(page):
    """The phantom's viewer painted from frames our handlers served, and what a user does with it on every host."""
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-transport", "http")
    expect(root).to_have_attribute("data-frame", "12")
    checks.check_scrolling(root)
    checks.check_windowing(root)
    checks.check_value_under_cursor(root)
    checks.check_length(root)
    return root


def test_voila_app_serves_frames_over_http(page, voila):
    requests = _frame_requests(page)
    page.goto(voila.url)
    root = _check_viewer_over_http(page)
    checks.check_cine(root)
    assert any("/readingroom/static/" in u and u.endswith("/viewer.js") for u in requests)
    assert any("/readingroom/frames/" in u for u in requests)
    assert page.console.errors == []


# Stock Voila's page links stylesheets on a CDN, which the tests' offline machine cannot resolve.
OFFLINE_CDN = "Failed to load resource: net::ERR_NAME_NOT_RESOLVED"


def test_plain_voila_falls_back_to_the_comm_with_a_clean_console(page, plain_voila):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(plain_voila.url)
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-transport", "comm")
    checks.check_scrolling(root)
    checks.check_value_under_cursor(root)
    # Notebook 7's JupyterLab extension is kept out (its shared-module error), and the widget asks the kernel
    # for its modules without first trying a handler that is not there (a 403): the console stays clean.
    installed = "is readingroom installed with its etc/jupyter/voila.json? (`make test` reinstalls it)"
    assert not [u for u in requests if "/labextensions/@jupyter-notebook/" in u or "/readingroom/" in u], installed
    assert [e for e in page.console.errors if e != OFFLINE_CDN] == []


def _check_kernel_mirrors_the_view(page, root) -> None:
    """After the checks: Python sees what the user did (frame, bone window, a length, inverted), and drives the view."""
    checks.check_declared_fields(root)
    root.focus()
    page.keyboard.press("i")
    expect(root).to_have_attribute("data-invert", "true")
    _run_cell(page, 1, "print(viewer.frame, viewer.window, [a['kind'] for a in viewer.annotations], viewer.invert)\n"
                       "viewer.frame = 5; viewer.window = 'lung'; viewer.invert = False")
    expect(page.locator(".jp-OutputArea-output").filter(has_text="[480.0, 2500.0]")).to_have_text(
        "0 [480.0, 2500.0] ['length'] True")
    expect(root).to_have_attribute("data-frame", "5")
    expect(root).to_have_attribute("data-window-center", "-600")
    expect(root).to_have_attribute("data-invert", "false")


def test_jupyterlab_runs_the_viewer_with_the_server_extension(page, jupyterlab):
    page.goto(f"{jupyterlab.url}lab/tree/phantom.ipynb?token={TOKEN}")
    page.locator(".jp-Notebook").wait_for(timeout=90_000)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=90_000)
    _run_cell(page, 0)
    root = _check_viewer_over_http(page)
    _check_kernel_mirrors_the_view(page, root)
    # a current study beside a "prior" with 4 mm slices (every other one): scrolling either keeps
    # both at the same level, in the browser, by slice position
    _run_cell(page, 2, "import dataclasses\nfrom readingroom.widgets import side_by_side\n"
                       "s = viewer.current_series\n"
                       "prior = dataclasses.replace(s, frames=s.frames[::2], slice_spacing=4.0)\n"
                       "side_by_side(Viewer(s), Viewer(prior))")
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


# Notebook 7.6.5 throws this on every page load, before any cell runs, in an empty notebook without our
# extension too: its shortcuts plugin looks for its own settings before the registry holds them
# (jupyter/notebook#7862, open).
NOTEBOOK7_OWN_LOAD_ERROR = "page error: Cannot read properties of undefined (reading 'schema')"


def test_notebook7_runs_the_viewer_with_the_server_extension(page, notebook7):
    requests = _frame_requests(page)
    with page.expect_websocket(lambda ws: "/api/kernels/" in ws.url, timeout=90_000):
        page.goto(f"{notebook7.url}notebooks/phantom.ipynb?token={TOKEN}")
    # no status bar here; the toolbar's kernel indicator also reads "idle" before the kernel exists (a cell
    # run then does nothing), so it counts only once the kernel's websocket is open
    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute("data-status", "idle", timeout=90_000)
    _run_cell(page, 0)
    root = _check_viewer_over_http(page)
    _check_kernel_mirrors_the_view(page, root)
    assert any("/readingroom/static/" in u and u.endswith("/viewer.js") for u in requests)
    assert any("/readingroom/frames/" in u for u in requests)
    errors = [e for e in page.console.errors
              if not e.startswith("Failed to load resource") and e != NOTEBOOK7_OWN_LOAD_ERROR]
    assert errors == []

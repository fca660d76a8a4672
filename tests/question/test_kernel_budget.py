"""A case Voila serves live, under the kernel budget, on a real `readingroom serve --max-kernels=2`.

Before: ten requests to a live case left 13 kernels and 1.16 GB, every visit holding one until culled.
"""

from __future__ import annotations

import json
import re
import urllib.request

import psutil
import pytest

from tests.question.conftest import LIVE_CASE, QUESTIONS_CASE, case_url
from tests.question.test_case_page import Visitor

KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')


@pytest.fixture(scope="module")
def budgeted(question_workdir, question_cases, tmp_path_factory):
    from tests.serve.conftest import start_serve

    server = start_serve(question_cases, tmp_path_factory.mktemp("budget"), "--max-kernels=2", "--pool-size=0")
    yield server
    server.stop()


def kernels_of(server) -> list[psutil.Process]:
    """The kernels the server's kernel manager runs: its children (a case's one run has its own process)."""
    found = []
    for child in psutil.Process(server.proc.pid).children():
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def leave(server, visitor: Visitor, page: str) -> None:
    """What Voila's page does when its tab is closed: ask the server to shut its kernel down."""
    kernel = KERNEL_ID.search(page).group(1)
    token = next(c.value for c in visitor.jar if c.name == "_xsrf")
    request = urllib.request.Request(f"{server.url}voila/api/shutdown/{kernel}", data=b"", method="POST",
                                     headers={"X-XSRFToken": token})
    with visitor.opener.open(request, timeout=60) as reply:
        assert reply.status == 204


def test_ten_visits_by_one_visitor_leave_one_kernel(budgeted):
    ann = Visitor()
    url = case_url(budgeted, LIVE_CASE)
    kernels = set()
    for _ in range(10):
        status, page = ann.get(url)
        assert status == 200
        kernels.add(KERNEL_ID.search(page).group(1))
    assert len(kernels) == 10  # a fresh kernel for each page, as Voila gives
    held = kernels_of(budgeted)
    assert len(held) == 1
    assert sum(k.memory_info().rss for k in held) < 300 << 20
    leave(budgeted, ann, page)
    assert kernels_of(budgeted) == []


def test_beyond_the_cap_visitors_wait_in_line_reading_the_case_without_a_kernel(budgeted):
    url = case_url(budgeted, LIVE_CASE)
    ann, bob, cy, dee = Visitor(), Visitor(), Visitor(), Visitor()
    pages = {}
    for name, visitor in (("ann", ann), ("bob", bob)):
        status, pages[name] = visitor.get(url)
        assert status == 200 and KERNEL_ID.search(pages[name])

    status, waiting = cy.get(url)
    assert status == 503
    assert "You are number <strong>1</strong> in line." in waiting
    assert 'href="?kernel=0"' in waiting and "kernelId" not in waiting
    assert "You are number <strong>2</strong> in line." in dee.get(url)[1]
    assert json.loads(cy.get(url + "?queue=1")[1]) == {"position": 1}
    assert len(kernels_of(budgeted)) == 2
    status, other = Visitor().get(case_url(budgeted, QUESTIONS_CASE))  # needs no kernel: never in line
    assert status == 200 and 'id="rr-case-page"' in other

    status, without = cy.get(url + "?kernel=0")
    assert status == 200
    assert "without its interactive parts" in without and 'id="rr-case-page"' in without
    assert "kernelId" not in without
    assert len(kernels_of(budgeted)) == 2

    leave(budgeted, ann, pages["ann"])
    assert json.loads(cy.get(url + "?queue=1")[1]) == {"position": 0}  # the seat is cy's, not dee's
    assert dee.get(url)[0] == 503
    status, seated = cy.get(url)
    assert status == 200 and KERNEL_ID.search(seated)
    assert json.loads(dee.get(url + "?queue=1")[1]) == {"position": 1}
    assert len(kernels_of(budgeted)) == 2
    leave(budgeted, bob, pages["bob"])
    status, last = dee.get(url)
    assert status == 200
    for visitor, page in ((cy, seated), (dee, last)):
        leave(budgeted, visitor, page)
    assert kernels_of(budgeted) == []


WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_accessible(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.browser
def test_the_queue_page_is_accessible_offers_the_case_and_opens_it_when_a_seat_frees(browser, budgeted):
    from playwright.sync_api import expect

    url = case_url(budgeted, LIVE_CASE)
    holders = [Visitor(), Visitor()]
    held = [visitor.get(url)[1] for visitor in holders]
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    try:
        assert page.goto(url).status == 503
        expect(page.get_by_role("status")).to_have_text("You are number 1 in line.")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert_accessible(page)

        page.get_by_role("link", name="Read the case now, without the interactive parts").click()
        expect(page.get_by_role("note")).to_contain_text("without its interactive parts")
        expect(page.locator("[data-rr-viewer]").first).to_be_visible()
        assert_accessible(page)

        page.go_back()
        expect(page.get_by_role("status")).to_have_text("You are number 1 in line.")
        leave(budgeted, holders[0], held[0])
        expect(page).not_to_have_title("Waiting for a seat - readingroom", timeout=60_000)  # it asked, and went in
        expect(page.locator(".jp-OutputArea-output").first).to_be_attached(timeout=120_000)  # Voila's page
    finally:
        context.close()
        leave(budgeted, holders[1], held[1])

"""In Chromium, through nginx over TLS: a presenter and two participants, each browser routed to its own process."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conference.browser_fixtures import VIEWER, join
from tests.deploy.conftest import printed
from tests.nginx_fixtures import ROUTE_COOKIE

pytestmark = pytest.mark.browser


def routed_page(browser, layout, port: int):
    """A browser whose route cookie nginx hashes to the process on ``port`` (self-signed certificate accepted)."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 820, "height": 1000})
    context.add_cookies([{"name": ROUTE_COOKIE, "value": layout.nginx.route_to(port), "url": layout.nginx.url,
                          "secure": True, "httpOnly": True, "sameSite": "Lax"}])
    return context, context.new_page()


def test_participants_on_other_processes_follow_the_presenters_window(browser, conference_layout):
    layout = conference_layout
    shown, ports = printed(layout), layout.ports
    contexts = []
    try:
        context, presenter = routed_page(browser, layout, ports[0])
        contexts.append(context)
        presenter.goto(f"{layout.nginx.url}/readingroom/conference/{shown['session']}/present?token={shown['token']}")
        expect(presenter.locator(VIEWER)).to_have_attribute("data-tier", "lossless", timeout=30_000)
        participants = []
        for k, name in enumerate(("Dr Ana Quarry", "Dr Ben Ollis")):
            context, page = routed_page(browser, layout, ports[(k + 1) % len(ports)])
            contexts.append(context)
            join(page, f"{layout.nginx.url}/", shown["code"], name)
            participants.append(page)
        presets = presenter.locator(VIEWER).get_by_label("Window preset")
        presets.select_option(index=presets.locator("option").count() - 1)  # far from the default window
        width = presenter.locator(VIEWER).get_attribute("data-window-width")
        for page in participants:
            expect(page.locator(VIEWER)).to_have_attribute("data-window-width", width, timeout=2_000)
    finally:
        for context in contexts:
            context.close()

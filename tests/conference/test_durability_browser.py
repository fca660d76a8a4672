"""What a presenter and a participant see in Chromium while the records store (a real PostgreSQL) is
stopped and started again: answers still saved, the console counting what waits, a joiner told
"saving, will retry" and let in by itself once the store is back; the console passes axe meanwhile."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.conference.conftest import start_conference, wait_for

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}


def _follower(browser, live, name: str):
    page = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True).new_page()  # a phone
    page.goto(live.join_url)
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    return page


def _joins_in_store(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM attendance_event WHERE kind = 'join'")).scalar_one()
    finally:
        engine.dispose()


def test_an_outage_of_the_records_store_as_the_presenter_and_participants_see_it(browser, tmp_path, own_postgres):
    url = own_postgres.create_database("conference")
    live = start_conference(tmp_path, url)
    try:
        presenter = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        presenter.goto(f"{live.base}/readingroom/conference/{live.session}/present?token={live.token}")
        records = presenter.locator("#records")
        expect(records).to_have_text("Records: all saved")
        ann = _follower(browser, live, "Dr Ann Outage")
        ann.wait_for_url("**/follow?ticket=*")
        presenter.get_by_label("Question", exact=True).fill("Next step?")
        presenter.get_by_label("Options").fill("CT\nMRI\nNothing")
        presenter.get_by_role("button", name="Open poll").click()
        wait_for(lambda: _joins_in_store(url), "Ann's join copied from the journal into the store")  # before the outage
        own_postgres.stop()
        ann.get_by_role("button", name="MRI").click()
        expect(ann.locator("#poll-note")).to_contain_text("Answer saved: MRI")  # kept on the server meanwhile
        expect(records).to_have_attribute("data-state", "unreachable")
        expect(records).to_contain_text("Records store unreachable: 1 record waiting")
        violations = Axe().run(presenter, options=WCAG).response["violations"]
        assert violations == [], [v["id"] for v in violations]
        bo = _follower(browser, live, "Dr Bo Later")
        expect(bo.locator("#message")).to_contain_text("saving, will retry")
        own_postgres.start()
        bo.wait_for_url("**/follow?ticket=*", timeout=30_000)  # the join page tried again by itself
        expect(records).to_have_text("Records: all saved", timeout=30_000)
        expect(presenter.locator("#poll-results li").nth(1)).to_have_attribute("data-count", "1")
    finally:
        live.server.stop()

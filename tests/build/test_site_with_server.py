"""A static site built with `--server`, on another origin, sends its learners' answers to that readingroom server."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from readingroom.records import RecordsStore
from readingroom.server.catalog import public_id
from tests.browser.accessibility import violations
from tests.build.conftest import MODULE, REPO
from tests.build.test_offline_serve import answers_of, module_cases, sign_in
from tests.learning.client import Visitor

pytestmark = pytest.mark.browser
PERSON = {"display_name": "Dr Static Site", "username": "static", "password": "answers from the static site"}


def test_answers_on_the_static_site_land_in_the_servers_records(browser, served, linked_site):
    with RecordsStore(served.records_url) as store:
        person = store.add_participant(**PERSON)
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{linked_site.site}modules/{MODULE}/")
    expect(page.locator("#records-server")).to_contain_text(served.url)
    expect(page.locator("#self-study")).to_have_count(0)
    assert violations(page, "static module page with a server") == []

    slug = module_cases()[0]
    case_url = f"{linked_site.site}cases/{public_id(slug)}/?module={MODULE}"
    page.goto(case_url)
    expect(page.locator("[data-rr-viewer]").first).to_have_attribute("data-tier", "lossless", timeout=60_000)
    question = page.locator("[data-rr-question]").first
    question.locator("input").first.check()
    question.get_by_role("button", name="Submit").click()
    expect(question).to_have_attribute("data-state", re.compile("correct|incorrect"))
    verdict = question.get_attribute("data-state")

    # Not signed in at the server: the answer waits in this browser, and the page says where to sign in.
    status = page.locator("[data-rr-outbox-status]")
    expect(status.get_by_role("link", name="sign in")).to_have_attribute("href", re.compile(rf"^{served.url}signin"))
    expect(page.locator("html")).to_have_attribute("data-rr-outbox", "waiting")
    assert violations(page, "static case page, answer waiting for sign-in") == []
    assert answers_of(served, person) == []

    sign_in(page, served, PERSON["username"], PERSON["password"])  # on the server's own origin
    page.goto(case_url)  # back on the static site: the answer is sent, cross-origin, with the server's cookie
    expect(page.locator("html")).to_have_attribute("data-rr-outbox", "sent", timeout=30_000)
    answers = answers_of(served, person)
    assert [(a.case_slug, a.question_id) for a in answers] == [(slug, "question-1")]
    assert answers[0].correct == (verdict == "correct")  # scored by the server's own key, as the page scored it
    assert errors == []
    context.close()


def test_tests_time_and_evaluation_sent_later_are_scored_and_credited_once(served):
    """The module's steps and time on task as records sent after being offline, each twice (a reply lost):
    one attempt each, time counted once, the post-test scored here, and the credit awarded."""
    import urllib.request

    from readingroom.curriculum import load_module

    module = load_module(REPO / "curriculum" / f"{MODULE}.yaml")
    person = {"display_name": "Dr Later", "username": "later", "password": "sent when back online"}
    with RecordsStore(served.records_url) as store:
        participant = store.add_participant(**person)
    visitor = Visitor(served.url)
    assert visitor.sign_in(person["username"], person["password"])[0] == 200
    assert visitor.post(f"modules/{MODULE}/disclosures", {})[0] == 200

    def send(records: list[dict]) -> dict:
        request = urllib.request.Request(served.url + "readingroom/records", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"records": records}).encode())
        with visitor.opener.open(request, timeout=300) as reply:
            return json.loads(reply.read())

    right = {q.id: q.answer for q in module.post_test}
    steps = [{"key": "pre-test-0001", "kind": "test", "module": MODULE, "test": "pre",
              "choices": {q.id: 0 for q in module.pre_test}},
             *({"key": f"open-case-000{n}", "kind": "open", "module": MODULE, "case": public_id(slug)}
               for n, slug in enumerate(module.cases)),
             *({"key": f"time-on-task-{n:02}", "kind": "time", "module": MODULE, "seconds": 60} for n in range(16)),
             {"key": "post-test-0001", "kind": "test", "module": MODULE, "test": "post", "choices": right},
             {"key": "evaluation-01", "kind": "evaluation", "module": MODULE,
              "choices": {"quality": 4, "objectives-met": 0, "practice-change": "Fewer repeat scans", "free-of-bias": 0}}]
    for _ in range(2):
        reply = send(steps)
        assert reply["refused"] == [] and reply["landed"] == [step["key"] for step in steps]
    with RecordsStore(served.records_url) as store:
        attempts = store.test_attempts(participant.id, MODULE)
        assert [(a.kind.value, a.correct) for a in attempts][1:] == [("post", len(right))]
        assert [a.kind.value for a in attempts] == ["pre", "post"]
        assert store.module_progress(participant.id, MODULE).seconds_on_task == 16 * 60
        assert len(store.evaluations(participant.id, MODULE)) == 1
        assert [c.quarter_hours for c in store.certificates(participant.id, MODULE)] == [1]  # 16 minutes
    assert send([{"key": "a-wrong-kind", "kind": "delete-everything", "module": MODULE}])["refused"][0]["reason"] \
        .startswith("not a record this server takes")


def test_an_answer_whose_reply_was_lost_is_sent_again_and_stored_once(browser, served, linked_site):
    """The server stored the answer but its reply never came back (the link dropped): the browser sends it
    again later, and the server's records still hold it once."""
    person = {"display_name": "Dr Lost Reply", "username": "lostreply", "password": "the reply never arrived"}
    with RecordsStore(served.records_url) as store:
        participant = store.add_participant(**person)
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, served, person["username"], person["password"])
    lost = []

    def drop_reply(route):
        if route.request.method == "POST" and not lost:
            route.fetch()  # it reaches the server ...
            lost.append(route.request.post_data)
            route.abort("connectionreset")  # ... and its reply is lost
        else:
            route.continue_()

    page.route(f"{served.url}readingroom/records", drop_reply)
    slug = module_cases()[2]
    page.goto(f"{linked_site.site}cases/{public_id(slug)}/")
    expect(page.locator("[data-rr-viewer]").first).to_have_attribute("data-tier", "lossless", timeout=60_000)
    question = page.locator("[data-rr-question]").first
    question.locator("input").first.check()
    with page.expect_event("requestfailed", lambda r: r.url == f"{served.url}readingroom/records"):
        question.get_by_role("button", name="Submit").click()
    expect(page.locator("html")).to_have_attribute("data-rr-outbox", "waiting")
    assert lost and [a.case_slug for a in answers_of(served, participant)] == [slug]  # stored, not acknowledged

    page.reload()  # the next page load sends what waits
    expect(page.locator("html")).to_have_attribute("data-rr-outbox", "sent", timeout=30_000)
    assert [a.case_slug for a in answers_of(served, participant)] == [slug]
    context.close()

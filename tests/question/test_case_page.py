"""A served case page with no kernel of its own: what the page holds, how answers are scored, and when Voila serves instead."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.request

import psutil
import pytest

from tests.question.conftest import (BROKEN_CASE, LIVE_CASE, LIVE_REVEALED_CASE, QUESTIONS_CASE, REVEALED_CASE,
                                     case_url)


class Visitor:
    """One browser's worth of HTTP: a cookie jar (the page sets _xsrf) and JSON posts with its token."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, url: str) -> tuple[int, str]:
        try:
            with self.opener.open(url, timeout=180) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, url: str, body, xsrf: bool = True) -> tuple[int, dict]:
        token = next((c.value for c in self.jar if c.name == "_xsrf"), "")
        headers = {"Content-Type": "application/json", **({"X-XSRFToken": token} if xsrf else {})}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with self.opener.open(request, timeout=60) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            return error.code, json.loads(text) if text.startswith("{") else {"error": text}


def widgets_of(page: str) -> dict:
    config = re.search(r'<script id="rr-case-page" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(config.group(1))["widgets"]


def question_id(page: str, kind: str) -> str:
    return next(i for i, w in widgets_of(page).items() if w["module"] == "question.js" and w["state"]["kind"] == kind)


def reveal_url(server, page: str, stage: dict | None = None) -> str:
    """The next stage's address: from the page's Reveal button, or from the stage revealed before."""
    if stage is None:
        button = re.search(r'data-case="([^"]+)" data-stage="([0-9]+)"\s+data-key="([0-9a-f]+)"', page)
        case_id, number, key = button.groups()
    else:
        case_id, number, key = page, stage["next"]["number"], stage["next"]["key"]
    return f"{server.url}readingroom/cases/{case_id}/stages/{number}?key={key}"


def kernels_in(folder) -> list[psutil.Process]:
    """Kernel processes running in a case's folder (Voila and the case run both start them there)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if "ipykernel_launcher" in " ".join(process.info["cmdline"] or []) and process.cwd() == str(folder):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture
def visitor(question_served):
    visitor = Visitor()
    status, page = visitor.get(case_url(question_served, QUESTIONS_CASE))
    assert status == 200
    visitor.page = page
    visitor.answers = f"{question_served.url}readingroom/cases/{case_url(question_served, QUESTIONS_CASE).split('/')[-2]}/answers"
    return visitor


def test_every_widget_is_on_the_page_but_no_answer_is(visitor):
    kinds = sorted(w["state"].get("kind", w["module"]) for w in widgets_of(visitor.page).values())
    assert kinds == ["free_text", "locate", "multiple", "single", "viewer.js"]
    for secret in ("EXPLANATION-", "MODEL-ANSWER", "A subdural collection is crescentic", "Lentiform", "Calcification is not"):
        assert secret not in visitor.page
    assert "http://" not in visitor.page and "https://" not in visitor.page  # works offline


def test_no_kernel_runs_for_a_case_page(question_served, visitor):
    for _ in range(5):
        assert Visitor().get(case_url(question_served, QUESTIONS_CASE))[0] == 200
    assert kernels_in(question_served.dir / QUESTIONS_CASE) == []


def test_a_wrong_answer_gets_feedback_then_the_answer_when_attempts_run_out(visitor):
    single = question_id(visitor.page, "single")
    status, first = visitor.post(visitor.answers, {"question": single, "choice": 0})
    assert status == 200
    assert first["result"] == {"state": "incorrect", "final": False, "attempts_left": 1,
                               "feedback": {"0": "A subdural collection is crescentic."}}
    status, second = visitor.post(visitor.answers, {"question": single, "choice": 2})
    assert second["result"]["final"] and second["result"]["answer"] == [1]
    assert second["result"]["explanation"] == "EXPLANATION-SINGLE: lentiform shape."
    status, third = visitor.post(visitor.answers, {"question": single, "choice": 1})
    assert status == 409 and third["error"] == "No attempts left for this question."


def test_attempts_are_counted_by_the_server_not_the_page(question_served, visitor):
    """A page that keeps saying it has used no attempts gets no more than the author allowed."""
    single = question_id(visitor.page, "single")
    replies = [visitor.post(visitor.answers, {"question": single, "choice": choice, "attempts_used": 0})
               for choice in (0, 2, 1)]
    assert [status for status, _ in replies] == [200, 200, 409]
    assert replies[1][1]["attempts_used"] == 2 and replies[1][1]["result"]["final"]
    assert replies[2][1] == {"error": "No attempts left for this question."}  # not even the right option, now
    other = Visitor()  # another reader of the same page has attempts of their own
    assert other.get(case_url(question_served, QUESTIONS_CASE))[0] == 200
    status, theirs = other.post(visitor.answers, {"question": single, "choice": 1})
    assert status == 200 and theirs["result"]["state"] == "correct" and theirs["attempts_used"] == 1


def test_an_answer_without_the_readers_cookie_is_refused(visitor):
    for cookie in [c for c in visitor.jar if c.name == "rr_reader"]:
        visitor.jar.clear(cookie.domain, cookie.path, cookie.name)  # as if cleared to start the count again
    status, reply = visitor.post(visitor.answers, {"question": question_id(visitor.page, "single"), "choice": 0})
    assert status == 403 and reply == {"error": "Reload the case page to answer (its cookie is missing)."}


def test_a_locate_answer_is_scored_against_the_authors_region(visitor):
    from tests.question.conftest import lesion_region

    locate = question_id(visitor.page, "locate")
    region = lesion_region()
    (x, y), frame = region["center"], region["frame"]
    status, hit = visitor.post(visitor.answers, {"question": locate, "choice": {"frame": frame, "x": x, "y": y}})
    assert status == 200 and hit["result"]["state"] == "correct" and hit["result"]["region"]["frame"] == frame
    status, miss = visitor.post(visitor.answers, {"question": locate, "choice": {"frame": frame + 3, "x": x, "y": y}})
    assert miss["result"]["state"] == "incorrect" and "not on this image" in miss["result"]["hint"]


@pytest.mark.parametrize("body, status, message", [
    ({"question": "SINGLE", "choice": 9}, 400, "a single-choice answer is one option index 0-2, got 9"),
    ({"question": "not-a-question", "choice": 1}, 409, "This case has changed since the page was opened: reload the page."),
    (b"not json", 400, 'Send JSON: {"question": id, "choice": ...}.'),
])
def test_bad_answers_get_one_line_saying_what_is_wrong(visitor, body, status, message):
    if isinstance(body, dict) and body["question"] == "SINGLE":
        body = {**body, "question": question_id(visitor.page, "single")}
    assert visitor.post(visitor.answers, body) == (status, {"error": message})


def test_an_answer_without_the_pages_xsrf_token_is_refused(visitor):
    status, reply = visitor.post(visitor.answers, {"question": question_id(visitor.page, "single"), "choice": 1},
                                 xsrf=False)
    assert status == 403


def test_a_notebook_using_other_widgets_is_served_live_by_voila(question_served):
    status, page = Visitor().get(case_url(question_served, LIVE_CASE))
    assert status == 200
    assert '"kernelId"' in page and "rr-case-page" not in page  # Voila's page, with its kernel
    assert "EXPLANATION-" not in page
    assert "LIVE-RAW-HTML" in page and 'action="/steal"' not in page and 'type="password"' not in page  # nh3
    assert kernels_in(question_served.dir / LIVE_CASE)


def test_a_case_that_fails_when_run_is_one_line_naming_the_error(question_served):
    status, page = Visitor().get(case_url(question_served, BROKEN_CASE))
    assert status == 500
    assert "ValueError: the educator left a mistake here" in page and "readingroom check" in page
    assert "Traceback" not in page


@pytest.mark.browser
def test_viewers_side_by_side_scroll_together_without_a_kernel(page, question_served):
    from playwright.sync_api import expect

    from tests.browser import viewer_checks as checks
    from tests.question.conftest import PAIRS_CASE

    page.goto(case_url(question_served, PAIRS_CASE))
    viewers = page.locator("[data-rr-viewer]")
    expect(viewers).to_have_count(4)
    for k in range(4):
        checks.wait_painted(viewers.nth(k))
    for moved, follower in ((0, 1), (2, 3)):  # linked by slice position; linked frame for frame (jslink)
        viewers.nth(moved).focus()
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        expect(viewers.nth(moved)).to_have_attribute("data-frame", "7")
        expect(viewers.nth(follower)).to_have_attribute("data-frame", "7")
    assert page.console.errors == []


def test_an_edited_case_is_run_again_and_old_pages_are_told_to_reload(question_served):
    """An educator fixes a case while the server runs: the next reader gets the new version."""
    import shutil

    slug = "phantom-being-edited"
    shutil.copytree(question_served.dir / QUESTIONS_CASE, question_served.dir / slug)
    reader = Visitor()
    url = case_url(question_served, slug)
    answers = f"{question_served.url}readingroom/cases/{url.split('/')[-2]}/answers"
    old = question_id(reader.get(url)[1], "single")
    notebook = question_served.dir / slug / "case.ipynb"
    notebook.write_text(notebook.read_text().replace("EXPLANATION-SINGLE", "EXPLANATION-REVISED"))

    status, page = reader.get(url)
    new = question_id(page, "single")
    assert status == 200 and new != old
    assert reader.post(answers, {"question": old, "choice": 1}) == (
        409, {"error": "This case has changed since the page was opened: reload the page."})
    status, reply = reader.post(answers, {"question": new, "choice": 1})
    assert reply["result"]["explanation"] == "EXPLANATION-REVISED: lentiform shape."


@pytest.mark.browser
def test_a_viewer_switches_series_without_a_kernel(page, question_served):
    from playwright.sync_api import expect

    from tests.browser import viewer_checks as checks
    from tests.question.conftest import SECOND_SERIES, TWO_SERIES_CASE

    page.goto(case_url(question_served, TWO_SERIES_CASE), timeout=180_000)  # the first visit waits for the case's run
    root = checks.viewer(page)
    checks.wait_painted(root)
    checks.check_declared_fields(root)
    checks.check_invert(root)
    first, first_count = root.get_attribute("data-series"), root.get_attribute("data-frames")
    page.get_by_label("Series").select_option(index=1)
    expect(root).not_to_have_attribute("data-series", first)
    checks.wait_painted(root)
    assert {first_count, root.get_attribute("data-frames")} == {"24", str(SECOND_SERIES["slices"])}
    page.get_by_label("Series").select_option(index=0)
    expect(root).to_have_attribute("data-series", first)
    checks.wait_painted(root)
    assert page.console.errors == []


@pytest.mark.browser
def test_the_case_page_passes_axe_with_the_viewer_in_each_state(page, question_served):
    from tests.browser import viewer_checks as checks
    from tests.browser.accessibility import violations
    from tests.question.conftest import TWO_SERIES_CASE

    page.goto(case_url(question_served, TWO_SERIES_CASE), timeout=180_000)  # the first visit waits for the case's run
    root = checks.viewer(page)
    checks.wait_painted(root)
    found = [v for state in checks.viewer_states(root) for v in violations(page, state)]
    assert found == [], "\n".join(found)


def test_a_revealed_stage_brings_its_widgets_and_what_it_changed_in_earlier_ones(question_served):
    visitor = Visitor()
    status, page = visitor.get(case_url(question_served, REVEALED_CASE))
    assert status == 200 and "FINDING-ARROW" not in page and "DIAGNOSIS-TEXT" not in page
    [(viewer_id, viewer)] = widgets_of(page).items()
    assert viewer["state"]["annotations"] == []  # the arrow is drawn by a later stage's cell

    status, body = visitor.get(reveal_url(question_served, page))
    findings = json.loads(body)
    [(new_id, new)] = findings["widgets"].items()
    assert new["module"] == "viewer.js" and new["state"]["frame"] == 3 and new["manifests"]
    assert f'data-rr-widget="{new_id}"' in findings["html"]
    assert [a["text"] for a in findings["updates"][viewer_id]["annotations"]] == ["FINDING-ARROW"]

    case_id = case_url(question_served, REVEALED_CASE).split("/")[-2]
    status, body = visitor.get(reveal_url(question_served, case_id, findings))
    diagnosis = json.loads(body)
    # Its cell fails when run (an unfinished edit): the stage is shown as saved, the case still served.
    assert status == 200 and "DIAGNOSIS-TEXT" in diagnosis["html"]
    assert diagnosis["widgets"] == {} and diagnosis["next"] is None
    assert "stage 2: ValueError: unfinished edit" in question_served.log.read_text()


def test_a_page_voila_serves_gets_a_later_stages_viewers_as_pictures(question_served):
    """Nothing on a Voila page could mount the stage's widgets: it gets pictures of them from the server's run."""
    visitor = Visitor()
    status, page = visitor.get(case_url(question_served, LIVE_REVEALED_CASE))
    assert status == 200 and '"kernelId"' in page
    status, body = visitor.get(reveal_url(question_served, page))
    findings = json.loads(body)
    assert findings["html"].count('<img alt="figure" src="data:image/png;base64,') == 1
    assert "data-rr-widget" not in findings["html"] and "widgets" not in findings and findings["next"]


@pytest.mark.browser
def test_reveal_points_at_the_finding_and_the_revealed_viewer_scrolls_without_a_kernel(page, question_served):
    from playwright.sync_api import expect

    from tests.browser import viewer_checks as checks
    from tests.question.conftest import FRAME

    page.goto(case_url(question_served, REVEALED_CASE))
    viewers = page.locator("[data-rr-viewer]")
    expect(viewers).to_have_count(1)
    checks.wait_painted(viewers.nth(0))
    expect(viewers.nth(0)).to_have_attribute("data-frame", str(FRAME))
    expect(viewers.nth(0)).to_have_attribute("data-annotations", "0")

    page.get_by_role("button", name="Reveal Findings").click()
    expect(viewers).to_have_count(2)
    expect(viewers.nth(0)).to_have_attribute("data-annotations", "1")  # the arrow on the finding
    revealed = viewers.nth(1)
    checks.wait_painted(revealed)
    expect(revealed).to_have_attribute("data-frame", "3")
    revealed.focus()
    page.keyboard.press("ArrowDown")
    expect(revealed).to_have_attribute("data-frame", "4")

    page.get_by_role("button", name="Reveal Diagnosis").click()
    expect(page.get_by_text("DIAGNOSIS-TEXT")).to_be_visible()
    assert page.console.errors == []


def test_a_conference_gets_a_later_stages_viewers_as_pictures_of_the_run(question_cases, tmp_path):
    """The author saved the case without outputs; the server's run still gives a conference the revealed viewer."""
    import asyncio
    import logging
    import threading

    from readingroom.server.case_pages import CasePages
    from readingroom.server.catalog import Card
    from readingroom.server.base import template_environment

    card = Card(REVEALED_CASE, "v1", json.loads((question_cases / REVEALED_CASE / "case.ipynb").read_text()))
    assert not any(cell.get("outputs") for cell in card.notebook["cells"])
    pages = CasePages(question_cases, b"secret", template_environment(), logging.getLogger("test"))
    made = []
    thread = threading.Thread(target=lambda: made.append(asyncio.run(pages.page(card))))  # Playwright owns this thread's loop
    thread.start()
    thread.join(300)
    findings, diagnosis = made[0].later_stages
    assert findings.pictures_html.count('<img alt="figure" src="data:image/png;base64,') == 1
    assert "data-rr-widget" not in findings.pictures_html
    assert [a["text"] for a in findings.drawn["annotations"]] == ["FINDING-ARROW"]
    assert "DIAGNOSIS-TEXT" in diagnosis.pictures_html and diagnosis.drawn is None  # failed when run: as saved

"""A signed-in educator's "Start conference", and what keeps two conferences of one server apart."""

from __future__ import annotations

import http.client
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from readingroom.records import RecordsStore
from readingroom.server.catalog import public_id
from tests.conference.conftest import CASE, MODULE, SECOND_CASE, request, wait_for

EDUCATOR_LINE = "Only an educator can start a conference: sign in with an educator account first."


def _account(live, educator: bool) -> int:
    with RecordsStore(live.records_url) as store:
        name = f"user-{uuid.uuid4().hex[:8]}"
        return store.add_participant(f"Dr {name}", username=name, password="a long passphrase", is_educator=educator).id


@pytest.fixture
def educator(live) -> str:
    return live.signed_in_cookie(_account(live, educator=True))


def _form(live, cookie: str) -> tuple[int, str]:
    return request(live.server.port, "GET", "/readingroom/conference/new", headers={"Cookie": cookie})


def _start(live, cookie: str, xsrf: str = "abc", what: str = CASE) -> tuple[int, str, str]:
    """POST the educator's form; (status, where it redirects, the page)."""
    connection = http.client.HTTPConnection("127.0.0.1", live.server.port, timeout=60)
    headers = {"Cookie": "; ".join(c for c in ("_xsrf=abc", cookie) if c),
               "Content-Type": "application/x-www-form-urlencoded"}
    try:
        connection.request("POST", "/readingroom/conference/start", body=f"what={what}&_xsrf={xsrf}", headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Location") or "", response.read().decode()
    finally:
        connection.close()


def _second_conference(live, cookie: str) -> tuple[int, str]:
    """Start one through the form; (session, token) from the redirect to the presenter console."""
    status, location, _ = _start(live, cookie)
    assert status == 302 and urlsplit(location).path.endswith("/present")
    return int(urlsplit(location).path.split("/")[-2]), parse_qs(urlsplit(location).query)["token"][0]


@pytest.mark.parametrize("who", ["nobody", "participant", "educator"])
def test_the_catalog_offers_joining_to_everyone_and_starting_to_educators(live, who):
    cookie = live.signed_in_cookie(_account(live, educator=who == "educator")) if who != "nobody" else ""
    status, page = request(live.server.port, "GET", "/", headers={"Cookie": cookie} if cookie else {})
    assert status == 200 and 'href="/join">Join a conference</a>' in page
    assert ('href="/readingroom/conference/new">Start a conference</a>' in page) == (who == "educator")
    assert ("Signed in as Dr user-" in page) == (who != "nobody")


@pytest.mark.parametrize("who", ["nobody", "participant"])
def test_only_educators_see_the_form_or_start_one(live, who):
    cookie = live.signed_in_cookie(_account(live, educator=False)) if who == "participant" else ""
    status, page = _form(live, cookie)
    assert status == 403 and EDUCATOR_LINE in page
    assert _start(live, cookie)[0] == 403


def test_the_form_lists_the_servable_case_and_needs_xsrf(live, educator):
    status, page = _form(live, educator)
    assert status == 200 and f'value="{CASE}"' in page and "Chronic subdural" in page
    assert _start(live, educator, xsrf="forged")[0] == 403


def test_a_ticket_opens_its_own_conference_only_and_ending_one_closes_it(live, educator):
    session, token = _second_conference(live, educator)
    assert session != live.session
    status, joined = live.join("Ann")  # a ticket for the first conference
    assert status == 200
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{live.server.port}/readingroom/conference/{session}/ws?ticket={joined['ticket']}",
                proxy=None, legacy=True)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):  # nor does the first conference's presenter token
        connect(f"ws://127.0.0.1:{live.server.port}/readingroom/conference/{session}/ws?token={live.token}",
                proxy=None, legacy=True)
    presenter = live.presenter(session, token)
    code = presenter.welcome["code"]
    with RecordsStore(live.records_url) as store:
        assert store.session(session).ends_at is None
    status, joined_b = live.join("Bo", code=code)
    assert status == 200 and joined_b["session"] == session
    follower = connect(f"ws://127.0.0.1:{live.server.port}{joined_b['ws_url']}", proxy=None, legacy=True)
    assert '"welcome"' in follower.recv(timeout=10)
    presenter.send({"type": "end"})
    assert presenter.next("ended") == {"type": "ended"}
    assert '"ended"' in follower.recv(timeout=10)
    with pytest.raises(ConnectionClosed):
        follower.recv(timeout=10)
    assert live.join("Cy", code=code)[0] == 404
    with RecordsStore(live.records_url) as store:
        wait_for(lambda: store.session(session).ends_at is not None, "the session's end in the records")


def test_a_module_conference_has_its_cases_on_the_agenda_in_order(live, educator):
    status, page = _form(live, educator)
    assert status == 200 and f'value="{MODULE}"' in page
    status, location, _ = _start(live, educator, what=MODULE)
    assert status == 302
    session = int(urlsplit(location).path.split("/")[-2])
    presenter = live.presenter(session, parse_qs(urlsplit(location).query)["token"][0])
    assert [entry["case"] for entry in presenter.welcome["agenda"]] == [public_id(CASE), public_id(SECOND_CASE)]
    assert all(entry["manifests"] and entry["stages"] >= 2 for entry in presenter.welcome["agenda"])
    with RecordsStore(live.records_url) as store:
        assert (store.session(session).kind, store.session(session).ref) == ("module", MODULE)
    presenter.send({"type": "end"})
    presenter.next("ended")


def test_an_unknown_choice_is_refused_with_one_line(live, educator):
    status, _, page = _start(live, educator, what="no-such-thing")
    assert status == 400 and "no-such-thing: no such case in " in page and "modules: two-first-looks" in page

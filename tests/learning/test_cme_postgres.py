"""The CME flow's server side over real HTTP, with the records in a real PostgreSQL.

Also what a browser test cannot show cheaply: steps refused out of order, another
account's certificate, a form without its XSRF token, and the limits on failed sign-ins
(per account, and per address behind the trusted TLS proxy), each from addresses and
accounts of its own so no other test is locked out.
"""

from __future__ import annotations

import io
import re
import urllib.parse

from readingroom.records import RecordsStore, TestKind
from readingroom.server.catalog import public_id
from tests.learning.client import Visitor, text_of
from readingroom.server.learning.signin import FAILURES_PER_ACCOUNT, FAILURES_PER_ADDRESS
from tests.learning.conftest import OTHER, PROXY, SECOND_MODULE, TRAINEE, studied_earlier
from tests.servers import fetch_from

EVALUATION = {"quality": 3, "objectives-met": 2, "practice-change": "Date subdural blood by its density.",
              "free-of-bias": 0}


def signed_in(server, person: dict) -> Visitor:
    visitor = Visitor(server.url)
    status, url, _ = visitor.sign_in(person["username"], person["password"])
    assert status == 200 and url.endswith("/modules")
    return visitor


def test_cme_flow_records_in_postgresql(pg_served, sample_module):
    name = sample_module.name
    page = f"modules/{name}"
    assert pg_served.records_url.startswith("postgresql+psycopg://")
    status, url, _ = Visitor(pg_served.url).get(page)
    assert url.endswith(f"/signin?next=%2F{page.replace('/', '%2F')}")
    studied_earlier(pg_served.records_url, name, TRAINEE)
    trainee = signed_in(pg_served, TRAINEE)

    status, _, body = trainee.get(page)
    assert status == 200 and "The post-test pass mark is 75%" in text_of(body)
    assert "answer" not in body.decode().lower()
    # Content before the disclosures is refused, whatever the page shows.
    pre_answers = {q.id: 0 for q in sample_module.pre_test}
    status, _, body = trainee.post(f"{page}/tests/pre", pre_answers)
    assert status == 409 and "Finish the faculty disclosures first." in text_of(body)

    assert trainee.post(f"{page}/disclosures", {})[0] == 200
    assert "Your pre-test score: 1 of 3." in text_of(trainee.post(f"{page}/tests/pre", pre_answers)[2])
    status, body = trainee.post(f"{page}/tests/post", {q.id: q.answer for q in sample_module.post_test})[::2]
    assert status == 409 and "Finish the cases first." in text_of(body)
    for slug in sample_module.cases:
        assert trainee.redirect_of(f"{page}/cases/{public_id(slug)}") == (302, f"/cases/{public_id(slug)}/?module={name}")
    # Signing in again elsewhere resumes at the saved step: the post-test.
    resumed = signed_in(pg_served, TRAINEE).get(page)[2].decode()
    assert '<section class="step current" id="step-post-test"' in resumed and 'id="post-form"' in resumed

    wrong = {q.id: (q.answer + 1) % len(q.options) for q in sample_module.post_test}
    assert "Not passed: 0 of 4 (0%); the pass mark is 75%." in text_of(trainee.post(f"{page}/tests/post", wrong)[2])
    assert trainee.get(f"{page}/certificate.pdf")[0] == 404
    right = {q.id: q.answer for q in sample_module.post_test}
    assert "Passed: 4 of 4 (100%)." in text_of(trainee.post(f"{page}/tests/post", right)[2])

    status, _, body = trainee.post(f"{page}/evaluation", {**EVALUATION, "practice-change": ""})
    assert status == 400 and "please answer" in text_of(body)
    status, _, body = trainee.post(f"{page}/evaluation", EVALUATION)
    code = re.search(r'class="certificate-code">([A-Z0-9]{12})<', body.decode()).group(1)
    assert "Credit awarded (self-study): 0.75 AMA PRA Category 1 Credits" in text_of(body)

    status, _, pdf = trainee.get(f"{page}/certificate.pdf")
    from pypdf import PdfReader

    words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert status == 200 and TRAINEE["display_name"] in words and code in words and sample_module.title in words
    assert signed_in(pg_served, OTHER).get(f"{page}/certificate.pdf")[0] == 404  # only the owner's own

    status, _, body = Visitor(pg_served.url).get(f"verify/{code}")
    assert status == 200 and f"Name {TRAINEE['display_name']} Activity {sample_module.title}" in text_of(body)
    status, _, body = Visitor(pg_served.url).get("verify/ABCDEFGHJKLM")
    assert status == 404 and "No certificate with this code" in text_of(body)

    with RecordsStore(pg_served.records_url) as store:
        holder = store.participant(store.certificate(code).participant_id)
        attempts = store.test_attempts(holder.id, name, TestKind.POST)
        evaluation = store.evaluations(holder.id, name)[0]
    assert holder.username == TRAINEE["username"]
    assert [(a.answers, a.passed) for a in attempts] == [(wrong, False), (right, True)]
    assert evaluation.answers["practice-change"] == EVALUATION["practice-change"]


def test_a_form_without_its_xsrf_token_is_refused(pg_served, sample_module):
    trainee = signed_in(pg_served, TRAINEE)
    assert trainee.post(f"modules/{sample_module.name}/disclosures", {}, xsrf=False)[0] == 403


def sign_in_from(server, source: str, username: str, password: str, headers: dict | None = None):
    """POST /signin from ``source`` (a client, or the proxy with X-Forwarded-* headers): (status, headers, page text)."""
    form = urllib.parse.urlencode({"username": username, "password": password, "next": "/modules", "_xsrf": "t0k3n"})
    status, reply, body = fetch_from(source, server.port, "POST", "/signin", form.encode(), {
        "Cookie": "_xsrf=t0k3n", "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    return status, reply, text_of(body)


def test_failed_sign_ins_are_limited_per_account_from_any_address(pg_served):
    account = {"display_name": "Dr Guessed At", "username": "guessed-at", "password": "a long good passphrase"}
    with RecordsStore(pg_served.records_url) as store:
        store.add_participant(account["display_name"], username=account["username"], password=account["password"])
    for n in range(FAILURES_PER_ACCOUNT):  # a guesser hopping between addresses
        status, _, text = sign_in_from(pg_served, f"127.0.1.{n + 1}", "Guessed-At", f"guess {n}")
        assert status == 200 and "Wrong username or password" in text
    status, _, text = sign_in_from(pg_served, "127.0.1.99", account["username"], account["password"])
    assert status == 429 and "Too many failed sign-ins to this account" in text


def test_a_department_behind_one_address_signs_in_despite_typos(pg_served):
    """A NAT: colleagues mistype their usernames and passwords; the next person, right, still gets in."""
    nat = "127.0.2.1"
    for n in range(30):
        status, _, text = sign_in_from(pg_served, nat, f"colleague-{n}", "mistyped")
        assert status == 200 and "Wrong username or password" in text
    status, reply, _ = sign_in_from(pg_served, nat, OTHER["username"], OTHER["password"])
    assert status == 302 and reply["Location"] == "/modules"


def test_failed_sign_ins_are_limited_per_client_behind_the_trusted_proxy(pg_served):
    sprayer, colleague = {"X-Forwarded-For": "198.51.100.20"}, {"X-Forwarded-For": "198.51.100.21"}
    for n in range(FAILURES_PER_ADDRESS):  # one account after another, from one client
        assert sign_in_from(pg_served, PROXY, f"sprayed-{n}", "password1", sprayer)[0] == 200
    status, _, text = sign_in_from(pg_served, PROXY, "sprayed-last", "password1", sprayer)
    assert status == 429 and "Too many failed sign-ins from your network" in text
    # Another client through the same proxy signs in, and over https its session cookie is Secure.
    status, reply, _ = sign_in_from(pg_served, PROXY, TRAINEE["username"], TRAINEE["password"],
                                    {**colleague, "X-Forwarded-Proto": "https"})
    assert status == 302
    session = next(line for line in reply.get_all("Set-Cookie") if line.startswith("rr_user="))
    assert "Secure" in session and "HttpOnly" in session


def test_forwarded_headers_from_anyone_but_the_proxy_are_ignored(pg_served):
    spoofed = {"X-Forwarded-For": "198.51.100.30", "X-Forwarded-Proto": "https"}
    status, reply, _ = sign_in_from(pg_served, "127.0.3.1", TRAINEE["username"], TRAINEE["password"], spoofed)
    assert status == 302
    session = next(line for line in reply.get_all("Set-Cookie") if line.startswith("rr_user="))
    assert "Secure" not in session  # plain http as far as anyone trustworthy knows


def test_the_post_test_may_be_taken_only_as_often_as_the_module_allows(pg_served, sample_module):
    from datetime import UTC, datetime

    from readingroom.server.learning.steps import Standing

    person = {"display_name": "Dr Eliminator", "username": "eliminator", "password": "tries every option in turn"}
    name = sample_module.name
    with RecordsStore(pg_served.records_url) as store:  # already at the post-test, as after the cases
        participant = store.add_participant(person["display_name"], username=person["username"],
                                            password=person["password"])
        store.record_position(participant.id, name, Standing.of(sample_module, 0).index("post-test"), datetime.now(UTC))
    trainee, page = signed_in(pg_served, person), f"modules/{name}"
    allowed = sample_module.post_test_attempts
    for shift in range(1, allowed + 1):  # a different wrong option each time, as if eliminating
        wrong = {q.id: (q.answer + shift) % len(q.options) for q in sample_module.post_test}
        status, _, body = trainee.post(f"{page}/tests/post", wrong)
        assert status == 200 and "Not passed" in text_of(body)
    assert f"You have used all {allowed} attempts, so this module's credit cannot be earned." in text_of(body)
    assert 'id="post-form"' not in body.decode()
    right = {q.id: q.answer for q in sample_module.post_test}
    status, _, body = trainee.post(f"{page}/tests/post", right)
    assert status == 409 and f"You have used all {allowed} attempts at the post-test." in text_of(body)
    with RecordsStore(pg_served.records_url) as store:
        assert len(store.test_attempts(participant.id, name, TestKind.POST)) == allowed


def test_time_on_task_counts_for_one_module_at_a_time(pg_served, sample_module):
    """Two tabs, a module in each, both beating: the time counts once, for the module open first."""
    person = {"display_name": "Dr Two Tabs", "username": "two-tabs", "password": "two modules at once"}
    with RecordsStore(pg_served.records_url) as store:
        participant = store.add_participant(person["display_name"], username=person["username"],
                                            password=person["password"])
    trainee, first, second = signed_in(pg_served, person), sample_module.name, SECOND_MODULE
    for _ in range(5):
        for module in (first, second):
            assert trainee.post(f"modules/{module}/heartbeat", {"resumed": 0})[0] == 204
    with RecordsStore(pg_served.records_url) as store:
        assert store.module_progress(participant.id, first).seconds_on_task > 0
        assert store.module_progress(participant.id, second).seconds_on_task == 0

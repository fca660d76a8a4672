"""A real conference server, real websockets: what presenters and participants see, and what they cannot do."""

from __future__ import annotations

import json
import uuid

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from readingroom.records import RecordsStore
from readingroom.server.conference.join import WRONG_CODES_ALLOWED
from tests.conference.conftest import Client, request, wait_for


def _view(live, frame: int, **extra) -> dict:
    case = live.presenter_welcome_case
    return {"case": case, "series": 0, "frame": frame, **extra}


@pytest.fixture
def room(live):
    """The live conference's presenter, connected; its agenda's case id kept for building views."""
    presenter = live.presenter()
    live.presenter_welcome_case = presenter.welcome["agenda"][0]["case"]
    yield presenter
    presenter.close()


def test_presenter_views_reach_every_participant_in_order_with_their_clock(live, room):
    people = [live.participant(name) for name in ("Ann", "Bo", "Cy")]
    start = room.welcome["seq"]
    for frame in range(5):
        room.send({"type": "view", "view": _view(live, frame), "t": 1000 + frame})
    for person in people:
        got = [person.next("view") for _ in range(5)]
        assert [m["seq"] for m in got] == list(range(start + 1, start + 6))
        assert [(m["view"]["frame"], m["t"]) for m in got] == [(f, 1000 + f) for f in range(5)]
        person.close()


def test_participants_never_see_the_case_title_the_presenter_does(live, room):
    person = live.participant("Di")
    assert "title" in room.welcome["agenda"][0] and "title" not in person.welcome["agenda"][0]
    assert person.welcome["agenda"][0]["manifests"][0]["count"] >= 1  # the follower can load the frames
    person.close()


def test_a_joiner_and_a_reconnecting_participant_get_the_last_snapshot(live, room):
    early = live.participant("Early")
    for frame in (3, 4, 5):
        room.send({"type": "view", "view": _view(live, frame, stage=1), "t": frame})
    last = early.next("view")
    while last["view"]["frame"] != 5:
        last = early.next("view")
    late = live.participant("Late")
    assert (late.welcome["seq"], late.welcome["view"]) == (last["seq"], last["view"])
    early.close()
    again = Client(live, early.path, early.joined)
    caught_up = (again.welcome["seq"], again.welcome["view"]["frame"], again.welcome["you"]["name"])
    assert caught_up == (last["seq"], 5, "Early")
    again.close()
    late.close()


def test_a_participants_forged_presenter_messages_are_dropped_and_logged_without_content(live, room):
    forger, bystander = live.participant("Mallory"), live.participant("Bystander")
    marker = "FORGED-9f3c"
    forger.send({"type": "view", "view": _view(live, 7, hidden_groups=[marker]), "t": 1})
    forger.send({"type": "poll_open", "poll": {"id": marker, "kind": "locate", "prompt": marker}})
    room.send({"type": "view", "view": _view(live, 2), "t": 2})
    first = bystander.next()
    assert first["type"] == "view" and first["view"]["frame"] == 2 and marker not in str(first)
    mallory = forger.joined["participant"]
    lines = wait_for(lambda: [line for line in live.log_text().splitlines()
                              if f"dropped a message from participant {mallory}:" in line] or None, "the log lines")
    assert len(lines) == 2 and "'view' is not allowed" in lines[0] and "'poll_open' is not allowed" in lines[1]
    assert marker not in live.log_text()
    forger.close()
    bystander.close()


def test_oversized_and_malformed_messages_are_dropped_and_the_link_stays_open(live, room):
    person = live.participant("Sam")
    person.send({"type": "ask", "text": "x" * 20000})
    person.socket.send("{not json")
    person.send({"type": "ping", "t": 42})
    assert person.next() == {"type": "pong", "t": 42}
    person.close()


def test_a_wrong_presenter_token_or_a_forged_ticket_gets_no_socket(live):
    for query in (f"token={live.token[:-2]}xx", "ticket=1.00ff", "ticket=", "token="):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{live.server.port}/readingroom/conference/{live.session}/ws?{query}",
                    proxy=None, legacy=True)
        assert refused.value.response.status_code == 403


def test_polls_and_questions_between_presenter_and_participants(live, room):
    ann, bo = live.participant("Ann"), live.participant("Bo")
    poll = {"id": "mcq-1", "kind": "choice", "prompt": "Side?", "options": ["L", "R"]}
    room.send({"type": "poll_open", "poll": poll})
    assert ann.next("poll")["poll"]["id"] == "mcq-1"
    ann.send({"type": "answer", "poll": "mcq-1", "answer": 1})
    bo.send({"type": "answer", "poll": "mcq-1", "answer": 1})
    assert wait_for(lambda: (r := room.next("results"))["counts"] == [0, 2] and r, "live results")
    room.send({"type": "poll_close", "poll": "mcq-1"})
    assert bo.next("results") == {"type": "results", "poll": "mcq-1", "prompt": "Side?", "options": ["L", "R"],
                                  "counts": [0, 2]}
    bo.send({"type": "ask", "text": "Is it acute?"})
    question = ann.next("questions")["questions"][0]
    ann.send({"type": "upvote", "question": question["id"]})
    ann.send({"type": "upvote", "question": question["id"]})
    room.send({"type": "answered", "question": question["id"]})
    final = bo.next("questions")
    while final["questions"][0]["answered"] is False:
        final = bo.next("questions")
    shown = {k: final["questions"][0][k] for k in ("text", "by", "votes")}
    assert shown == {"text": "Is it acute?", "by": "Bo", "votes": 1}
    ann.close()
    bo.close()


def test_the_roster_shows_who_is_connected_and_following(live, room):
    person = live.participant("Roster Rita")
    person.send({"type": "following", "value": False})
    me = person.joined["participant"]
    entry = wait_for(lambda: next((e for e in room.next("roster")["roster"] if e["id"] == me and not e["following"]),
                                  None), "Rita detached in the roster")
    assert entry["connected"] is True and entry["name"] == "Roster Rita"
    person.close()
    wait_for(lambda: any(e["id"] == me and not e["connected"] for e in room.next("roster")["roster"]), "Rita gone")


def test_join_errors_and_the_wrong_code_limit(live):
    assert live.join("", )[0] == 400
    assert live.join("A" * 81)[0] == 400
    assert live.join("Ann", code="ÉÉÉÉÉÉ", source="127.0.0.3")[0] == 404  # its own address: wrong codes count
    assert live.join("Ann", code=" " + live.code.lower()[:3] + "-" + live.code[3:])[0] == 200  # as read aloud
    source = "127.0.0.2"  # its own address, so the limit does not block the other tests
    statuses = [live.join("Guesser", code=f"ZZ{n:04d}", source=source)[0] for n in range(WRONG_CODES_ALLOWED)]
    assert statuses == [404] * WRONG_CODES_ALLOWED
    status, body = live.join("Guesser", code="ZZZZZZ", source=source)
    assert status == 429 and "Too many wrong codes" in body["error"]
    assert live.join("Someone else", code="ZZZZZZ")[0] == 404  # other addresses are not held back
    log = live.log_text()
    assert f"wrong join code from {source} ({WRONG_CODES_ALLOWED} in the last 10 minutes" in log
    assert "ZZ0001" not in log and "ZZZZZZ" not in log  # the codes tried are never logged


def test_a_hospital_behind_one_address_is_never_locked_out_by_typos(live):
    """A NAT: a room of clinicians shares one address; some mistype, one pastes junk again and
    again, and everyone with the right code still gets in, however many wrong codes came first."""
    nat = "127.0.0.4"
    typos = [live.join(f"Typist {n}", code=f"{live.code[:5]}{'Z' if live.code[5] != 'Z' else 'Y'}", source=nat)[0]
             for n in range(WRONG_CODES_ALLOWED + 20)]
    assert typos[0] == 404 and typos[-1] == 429  # the wrong codes are limited...
    joined = [live.join(f"Clinician {n}", source=nat) for n in range(30)]
    assert [status for status, _ in joined] == [200] * 30  # ...the right one never
    assert len({body["participant"] for _, body in joined}) == 30


def test_the_join_api_needs_the_xsrf_double_submit(live):
    body = json.dumps({"code": live.code, "name": "No Cookie"}).encode()
    headers = {"Content-Type": "application/json"}  # no _xsrf cookie, no X-XSRFToken
    status, _ = request(live.server.port, "POST", "/readingroom/conference/join", body, headers)
    assert status == 403


def test_a_stalled_follower_holds_nobody_back_and_catches_up_with_the_latest_view(live, room):
    fast = live.participant("Fast link")
    stalled = live.participant("Stalled link", receive_buffer=4096)
    # The stalled client reads nothing: its websocket library stops taking frames after a few, then the
    # kernel buffers fill (4 MB at most on the server's side), and the server must skip views for it.
    bulky = [{"kind": "text", "points": [[float(i), 1.0]], "text": "x" * 30} for i in range(170)]  # ~13 KB a view
    count = 500  # 6.5 MB of views
    fast_seqs = []
    for frame in range(count):
        room.send({"type": "view", "view": _view(live, frame, annotations=bulky), "t": frame})
        fast_seqs.append(fast.next("view")["seq"])  # the fast link keeps up with each view
    assert fast_seqs == list(range(fast_seqs[0], fast_seqs[0] + count))  # every view, in order, while the other stalls
    seen = [stalled.next("view")]
    while seen[-1]["seq"] != fast_seqs[-1]:
        seen.append(stalled.next("view"))
    seqs = [m["seq"] for m in seen]
    assert seqs == sorted(seqs) and len(seqs) < count  # views were skipped, none out of order
    assert seen[-1]["view"]["frame"] == count - 1  # and it ends on the presenter's latest view
    fast.close()
    stalled.close()


def test_a_flooding_participant_is_cut_to_the_allowance_with_one_log_line(live, room):
    flooder = live.participant("Flood")
    for k in range(100):
        flooder.send({"type": "ping", "t": k})
    me = flooder.joined["participant"]
    line = f"dropping messages from participant {me}: more than 10 a second"
    wait_for(lambda: line in live.log_text(), "the flood's log line")
    answered = set()
    while len(answered) < 30:  # the burst is answered, in order
        answered.add(flooder.next("pong")["t"])
    assert answered == set(range(30))
    assert live.log_text().count(line) == 1

    def answered_again() -> bool:
        flooder.send({"type": "ping", "t": -1})
        try:
            return flooder.next("pong", timeout=1)["t"] == -1
        except TimeoutError:  # still dropped: the allowance has not refilled yet
            return False

    wait_for(answered_again, "a pong once the allowance refills")  # the link stayed open
    flooder.close()


def test_a_ticket_cannot_be_turned_into_another_participants(live):
    status_a, ann = live.join("Ann")
    status_b, bo = live.join("Bo")
    assert status_a == status_b == 200
    forged = f"{bo['participant']}.{ann['ticket'].split('.', 1)[1]}"  # Bo's id, Ann's signature
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{live.server.port}/readingroom/conference/{live.session}/ws?ticket={forged}",
                proxy=None, legacy=True)
    assert refused.value.response.status_code == 403


def test_a_signed_in_participant_joins_as_their_account(live):
    with RecordsStore(live.records_url) as store:
        account = store.add_participant("Dr Signed In", username=f"si-{uuid.uuid4().hex[:8]}", password="a passphrase")
    status, joined = live.join("Typed Name", cookie=live.signed_in_cookie(account.id))
    assert status == 200 and joined["participant"] == account.id
    person = Client(live, joined["ws_url"], joined)
    assert person.welcome["you"] == {"id": account.id, "name": "Dr Signed In", "role": "participant"}
    person.close()


def test_the_presenter_token_never_reaches_the_server_log(live):
    """A 4xx makes tornado log the whole URI: a presenter link there is a conference anyone reading the log can take."""
    printed = live.log_text()  # `conference start` prints the presenter link once, for the presenter to open
    session = f"/readingroom/conference/{live.session}"
    asked = [f"{session}/stages/99?token={live.token}&case=0000000000",  # a stage that is not there: 404
             f"{session}/stages/1?token={live.token}&case=not-a-case",  # a malformed case: 400
             f"{session}/presenter?token={live.token}",  # no such page: 404 from the default handler
             f"{session}/follow?ticket={live.token}"]  # the token where a ticket goes: 403
    assert [request(live.server.port, "GET", path)[0] for path in asked] == [404, 400, 404, 403]

    def logged() -> str | None:
        written = live.log_text()[len(printed):]
        return written if written.count("token=[hidden]") >= 3 and "ticket=[hidden]" in written else None

    assert live.token not in wait_for(logged, "the requests in the access log")

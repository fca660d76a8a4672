"""A conference through nginx: the join page, the join API and both websockets over TLS, as a participant's browser does it."""

from __future__ import annotations

import json
import os
import signal
import uuid
from http.cookies import SimpleCookie

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conference.conftest import stored_answer_keys
from tests.deploy.conftest import printed
from tests.nginx_fixtures import ROUTE_COOKIE
from tests.servers import wait_for


def join_through(nginx, code: str, name: str, route: str | None = None) -> dict:
    """As the join page does: GET it (cookies), POST the API with the _xsrf cookie it set; a browser that has a
    route cookie already (``route``) keeps it."""
    status, headers, _ = nginx.request("GET", f"/join/{code}", route=route)
    assert status == 200
    cookies = SimpleCookie()
    for line in headers.get_all("Set-Cookie"):
        cookies.load(line)
    xsrf, route = cookies["_xsrf"].value, route or cookies[ROUTE_COOKIE].value
    body = json.dumps({"code": code, "name": name}).encode()
    status, _, reply = nginx.request("POST", "/readingroom/conference/join", body, route=route, headers={
        "Content-Type": "application/json", "X-XSRFToken": xsrf, "Cookie": f"_xsrf={xsrf}"})
    assert status == 200, reply
    return {**json.loads(reply), "route": route}


def test_the_printed_links_name_nginx_and_a_participant_on_another_process_follows(conference_layout):
    layout = conference_layout
    nginx, shown = layout.nginx, printed(layout)
    assert shown["public"] == nginx.url  # --public-url from the unit: the links people get are nginx's
    presenter = nginx.websocket(f"/readingroom/conference/{shown['session']}/ws?token={shown['token']}",
                                nginx.route_to(layout.ports[0]))
    welcome = json.loads(presenter.recv(timeout=10))
    joined = join_through(nginx, shown["code"], "Dr Through Nginx", route=nginx.route_to(layout.ports[2]))
    participant = nginx.websocket(joined["ws_url"], route=joined["route"])
    assert json.loads(participant.recv(timeout=10))["type"] == "welcome"
    view = {"case": welcome["agenda"][0]["case"], "series": 0, "frame": 0, "stage": 1}
    presenter.send(json.dumps({"type": "view", "view": view, "t": 42}))
    message = json.loads(participant.recv(timeout=10))
    while message["type"] != "view":
        message = json.loads(participant.recv(timeout=10))
    assert (message["view"], message["t"]) == (view, 42)
    participant.close()
    presenter.close()


def next_of(ws, kind: str, check=lambda message: True) -> dict:
    """The next message of ``kind`` that passes ``check`` (the room's other traffic skipped)."""
    while True:
        message = json.loads(ws.recv(timeout=10))
        if message["type"] == kind and check(message):
            return message


def test_kill_9_of_a_participants_process_they_reconnect_through_nginx_catch_up_and_lose_no_answer(conference_layout):
    """Presenter on A, participants on B and C, all through nginx; B dies mid-poll: its participant comes back
    through nginx to another process with the same ticket, sees the view the presenter set meanwhile, and
    the answer B acknowledged reaches PostgreSQL (from B's journal when B is started again)."""
    layout = conference_layout
    nginx, shown, (a, b, c) = layout.nginx, printed(layout), layout.ports
    presenter = nginx.websocket(f"/readingroom/conference/{shown['session']}/ws?token={shown['token']}", nginx.route_to(a))
    case = json.loads(presenter.recv(timeout=10))["agenda"][0]["case"]
    on_b, on_c = [join_through(nginx, shown["code"], name, route=nginx.route_to(port))
                  for name, port in (("Dr On B", b), ("Dr On C", c))]
    sockets = {who["participant"]: nginx.websocket(who["ws_url"], route=who["route"]) for who in (on_b, on_c)}
    poll = f"p{uuid.uuid4().hex[:8]}"
    presenter.send(json.dumps({"type": "poll_open", "poll": {"id": poll, "kind": "choice", "prompt": "Next step?",
                                                             "options": ["CT", "MRI", "Nothing"]}}))
    key = uuid.uuid4().hex
    ws_b = sockets[on_b["participant"]]
    next_of(ws_b, "poll", lambda m: m["poll"] is not None)
    ws_b.send(json.dumps({"type": "answer", "poll": poll, "answer": 1, "key": key}))
    assert next_of(ws_b, "saved", lambda m: m["key"] == key)  # acknowledged: it must survive what follows
    assert next_of(presenter, "results", lambda m: m["poll"] == poll and sum(m["counts"]) == 1)["counts"] == [0, 1, 0]

    os.kill(layout.processes[b].proc.pid, signal.SIGKILL)
    layout.processes[b].proc.wait(30)
    view = {"case": case, "series": 0, "frame": 0, "stage": 1}
    presenter.send(json.dumps({"type": "view", "view": view, "t": 7}))  # while B's participant is away
    assert next_of(sockets[on_c["participant"]], "view", lambda m: m["view"] == view)["t"] == 7
    with pytest.raises(ConnectionClosed):
        ws_b.recv(timeout=10)
    back = nginx.websocket(on_b["ws_url"], route=on_b["route"])  # what the page does: the same ticket, the same cookie
    welcome = next_of(back, "welcome")
    assert welcome["view"] == view and welcome["poll"]["id"] == poll  # caught up: the view and the open poll
    back.close()
    wait_for(lambda: nginx.served_by(on_b["route"])[-1:] and nginx.served_by(on_b["route"])[-1] != b,
             "nginx to log the reconnect, served by a process other than B")

    layout.restart(b)  # Restart=always: B's journal goes into PostgreSQL
    stored = f"answer:{shown['session']}:{on_b['participant']}:{key}"  # the page's key, in the store's words
    wait_for(lambda: stored in stored_answer_keys(layout.records_url, shown["session"]), "B's acknowledged answer stored")
    presenter.close()
    sockets[on_c["participant"]].close()

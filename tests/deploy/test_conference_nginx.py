"""A conference through nginx: the join page, the join API and both websockets over TLS, as a participant's browser does it."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

from tests.deploy.conftest import printed
from tests.nginx_fixtures import ROUTE_COOKIE


def join_through(nginx, code: str, name: str) -> dict:
    """As the join page does: GET it (cookies), POST the API with the _xsrf cookie it set."""
    status, headers, _ = nginx.request("GET", f"/join/{code}")
    assert status == 200
    cookies = SimpleCookie()
    for line in headers.get_all("Set-Cookie"):
        cookies.load(line)
    xsrf, route = cookies["_xsrf"].value, cookies[ROUTE_COOKIE].value
    body = json.dumps({"code": code, "name": name}).encode()
    status, _, reply = nginx.request("POST", "/readingroom/conference/join", body, route=route, headers={
        "Content-Type": "application/json", "X-XSRFToken": xsrf, "Cookie": f"_xsrf={xsrf}"})
    assert status == 200, reply
    return {**json.loads(reply), "route": route}


def test_the_printed_links_name_nginx_and_a_participant_follows_through_it(conference_layout):
    layout = conference_layout
    nginx, shown = layout.nginx, printed(layout)
    assert shown["public"] == nginx.url  # --public-url from the unit: the links people get are nginx's
    presenter = nginx.websocket(f"/readingroom/conference/{shown['session']}/ws?token={shown['token']}")
    welcome = json.loads(presenter.recv(timeout=10))
    joined = join_through(nginx, shown["code"], "Dr Through Nginx")
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

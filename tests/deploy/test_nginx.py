"""Three `readingroom serve` processes behind nginx (docs/deploy/nginx.conf), as a reader and a hospital's NAT meet them.

A browser is hashed to one process by the route cookie nginx gives it, so a case page's reveals
and answers reach the process that ran it; the reveal keys and frames, from the shared secrets and
the shared frame cache, are good on every process; the app counts wrong join codes per client from
nginx's X-Forwarded-For; and a browser whose process is killed is served by another.
"""

from __future__ import annotations

import json
import os
import re
import signal

from readingroom.server.conference.join import WRONG_CODES_ALLOWED
from tests.deploy.conftest import CASE_ID
from tests.nginx_fixtures import ROUTE_COOKIE

XSRF = {"Cookie": "_xsrf=t0k3n", "X-XSRFToken": "t0k3n", "Content-Type": "application/json"}


def page_config(html: bytes) -> dict:
    """The case page's widgets and scoring, as its script reads them."""
    found = re.search(rb'<script id="rr-case-page" type="application/json">(.*?)</script>', html, re.DOTALL)
    return json.loads(found.group(1))


def first_stage_key(html: bytes) -> str:
    return html.split(b'data-key="')[1].split(b'"')[0].decode()


def test_http_is_sent_to_https_and_cookies_are_secure(three_servers):
    nginx = three_servers.nginx
    status, headers, _ = _plain_http(nginx, f"/cases/{CASE_ID}/")
    assert status == 301 and headers["Location"] == f"https://127.0.0.1/cases/{CASE_ID}/"
    status, headers, _ = nginx.request("GET", f"/cases/{CASE_ID}/")
    cookies = headers.get_all("Set-Cookie")
    assert status == 200 and any(c.startswith(f"{ROUTE_COOKIE}=") for c in cookies)
    # The app's own cookies (the reader's, _xsrf) are Secure: nginx said the browser came over https.
    assert all("Secure" in c for c in cookies) and any(c.startswith("rr_reader=") for c in cookies)


def _plain_http(nginx, path: str):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_each_browser_stays_on_one_process_and_browsers_spread(three_servers):
    nginx = three_servers.nginx
    routes = []
    for _ in range(12):  # twelve browsers, first visit: nginx gives each its route cookie
        _, headers, _ = nginx.request("GET", "/readingroom/catalog.json")
        routes.append(re.search(rf"{ROUTE_COOKIE}=([0-9a-f]{{32}})", headers["Set-Cookie"]).group(1))
    for route in routes:
        for _ in range(3):
            assert nginx.request("GET", "/readingroom/catalog.json", route=route)[0] == 200
    served = [set(nginx.served_by(route)) for route in routes]
    assert all(len(ports) == 1 for ports in served)  # every request of a browser: one process
    assert len(set.union(*served)) >= 2  # and the browsers are not all on one


def test_a_readers_page_reveal_and_answer_reach_the_process_that_ran_the_case(three_servers):
    nginx, route = three_servers.nginx, three_servers.nginx.route_to(three_servers.ports[1])
    status, headers, html = nginx.request("GET", f"/cases/{CASE_ID}/", route=route)
    assert status == 200
    reader = re.search(r"rr_reader=[^;]+", " ".join(headers.get_all("Set-Cookie"))).group(0)
    stage = nginx.request("GET", f"/readingroom/cases/{CASE_ID}/stages/1?key={first_stage_key(html)}", route=route)
    assert stage[0] == 200 and "crescentic extra-axial collection" in json.loads(stage[2])["html"]
    question = next(k for k, w in page_config(html)["widgets"].items() if w["module"] == "question.js")
    body = json.dumps({"question": question, "choice": 0}).encode()
    cookies = {**XSRF, "Cookie": f"{XSRF['Cookie']}; {reader}"}
    status, _, reply = nginx.request("POST", f"/readingroom/cases/{CASE_ID}/answers", body, cookies, route=route)
    assert status == 200 and json.loads(reply)["attempts_used"] == 1
    assert set(nginx.served_by(route)) == {three_servers.ports[1]}


def test_reveal_keys_and_frames_from_one_process_are_good_on_every_other(three_servers):
    """The shared secrets (docs/deploy/voila.py) and the shared frame cache: no process refuses another's links."""
    nginx = three_servers.nginx
    first, *others = [nginx.route_to(port) for port in three_servers.ports]
    _, _, html = nginx.request("GET", f"/cases/{CASE_ID}/", route=first)
    key = first_stage_key(html)
    viewer = next(w for w in page_config(html)["widgets"].values() if w["module"] == "viewer.js")
    frame = viewer["manifests"][0]["lossless"][0]
    for route in others:
        assert nginx.request("GET", f"/readingroom/cases/{CASE_ID}/stages/1?key={key}", route=route)[0] == 200
        status, headers, _ = nginx.request("GET", f"/readingroom/frames/{frame}.bin", route=route)
        assert status == 200 and "immutable" in headers["Cache-Control"]


def test_wrong_codes_are_counted_per_client_behind_nginx(three_servers):
    """nginx is one address to the app; its X-Forwarded-For names each client, only nginx is believed, and the
    count is one for all processes (Redis), however nginx spreads the guesses."""
    nginx = three_servers.nginx
    guesser, neighbour = "127.0.0.7", "127.0.0.8"

    def join(source: str, forwarded: str | None = None) -> int:
        """Without a route cookie: nginx spreads these requests over the processes, which count in Redis."""
        headers = {**XSRF, **({"X-Forwarded-For": forwarded} if forwarded else {})}
        body = json.dumps({"code": "ZZZZZZ", "name": "Behind the hospital's NAT"}).encode()
        return nginx.request("POST", "/readingroom/conference/join", body, headers, source=source)[0]

    # A new made-up address in X-Forwarded-For each time: nginx appends the real one, and that counts.
    statuses = [join(guesser, f"192.0.2.{n % 250}") for n in range(WRONG_CODES_ALLOWED + 1)]
    assert statuses[-2:] == [404, 429]
    assert join(neighbour) == 404  # the next client through the same nginx has its own budget
    logs = "".join(three_servers.log_of(port) for port in three_servers.ports)
    assert f"wrong join code from {guesser} ({WRONG_CODES_ALLOWED} in the last" in logs
    spread = re.findall(r'^127\.0\.0\.7 .*"POST /readingroom/conference/join" 404 \d+ upstream=(\S+) ',
                        nginx.access_log.read_text(), re.MULTILINE)
    assert len(set(spread)) >= 2  # the guesses went to several processes, and still added up


def test_a_browser_whose_process_is_killed_is_served_by_another(three_servers):
    """Last in this module: it kills a process of the shared layout."""
    nginx, gone = three_servers.nginx, three_servers.ports[2]
    route = nginx.route_to(gone)
    os.kill(three_servers.processes[gone].proc.pid, signal.SIGKILL)
    three_servers.processes[gone].proc.wait(30)
    status, _, html = nginx.request("GET", f"/cases/{CASE_ID}/", route=route)
    assert status == 200 and b"rr-case-page" in html
    now = nginx.served_by(route)[-1]
    assert now != gone
    assert nginx.request("GET", "/readingroom/catalog.json", route=route)[0] == 200
    assert nginx.served_by(route)[-1] == now  # and it stays on its new process

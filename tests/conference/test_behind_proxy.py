"""`conference start --trusted-proxy`: a TLS proxy in front says who each client is and that they came over https.

Its X-Forwarded-For and X-Forwarded-Proto are believed from the proxy's own address only;
the same headers from anyone else change nothing.
"""

from __future__ import annotations

import json

from readingroom.server.conference.join import WRONG_CODES_ALLOWED
from tests.conference.conftest import PROXY
from tests.servers import fetch_from

JOIN = "/readingroom/conference/join"
XSRF = {"Cookie": "_xsrf=t0k3n", "X-XSRFToken": "t0k3n", "Content-Type": "application/json"}


def join(live, source: str, code: str, forwarded: str | None = None) -> int:
    headers = {**XSRF, **({"X-Forwarded-For": forwarded} if forwarded else {})}
    body = json.dumps({"code": code, "name": "Behind a proxy"}).encode()
    return fetch_from(source, live.server.port, "POST", JOIN, body, headers)[0]


def wrong(live) -> str:
    return live.code[:5] + ("Z" if live.code[5] != "Z" else "Y")


def test_wrong_codes_count_per_client_the_proxy_names(live_postgres):
    live, client, neighbour = live_postgres, "198.51.100.7", "198.51.100.8"
    # The proxy forwards two hops (a client's own proxy, then the client): the nearest untrusted one counts.
    statuses = [join(live, PROXY, wrong(live), f"203.0.113.1, {client}") for _ in range(WRONG_CODES_ALLOWED + 1)]
    assert statuses[-2:] == [404, 429]
    assert join(live, PROXY, wrong(live), neighbour) == 404  # the next client through the same proxy: its own budget
    assert join(live, PROXY, live.code, client) == 200  # and the right code still gets the first one in
    assert f"wrong join code from {client} ({WRONG_CODES_ALLOWED} in the last" in live.log_text()


def test_forwarded_for_from_anyone_but_the_proxy_is_ignored(live_postgres):
    live, spoofer = live_postgres, "127.0.0.6"
    # A new made-up client each time: were the header believed, no budget would ever run out.
    statuses = [join(live, spoofer, wrong(live), f"192.0.2.{n % 250}") for n in range(WRONG_CODES_ALLOWED + 1)]
    assert statuses[-2:] == [404, 429]
    assert f"wrong join code from {spoofer} ({WRONG_CODES_ALLOWED} in the last" in live.log_text()


def cookie_lines(live, source: str, proto: str) -> list[str]:
    status, headers, _ = fetch_from(source, live.server.port, "GET", f"/join/{live.code}", headers={"X-Forwarded-Proto": proto})
    assert status == 200
    return headers.get_all("Set-Cookie")


def test_cookies_are_secure_when_the_proxy_says_https(live_postgres):
    through_proxy = cookie_lines(live_postgres, PROXY, "https")
    assert through_proxy and all("Secure" in line for line in through_proxy)
    assert not any("Secure" in line for line in cookie_lines(live_postgres, PROXY, "http"))
    assert not any("Secure" in line for line in cookie_lines(live_postgres, "127.0.0.6", "https"))  # not the proxy

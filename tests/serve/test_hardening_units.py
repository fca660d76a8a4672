"""The small parts behind the web hardening, each on its own: the failure limiter, the trusted-proxy
rules, the log scrubber, the markdown sanitizer and `--trusted-proxy` on the command line."""

from __future__ import annotations

import logging

import pytest
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.web import Application, RequestHandler
from typer.testing import CliRunner

from readingroom.cli import app
from readingroom.server.forwarded import (
    TRUSTED_PROXIES_SETTING,
    came_over_https,
    client_address,
    trusted_networks,
)
from readingroom.server.log_scrub import HideSecrets, scrub
from readingroom.server.rate_limit import TRACKED_KEYS, FailureLimiter
from readingroom.server.sanitize import markdown_html
from tests.conftest import run_async


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestFailureLimiter:
    def test_blocks_at_the_budget_and_forgets_after_the_window(self):
        clock = Clock()
        limiter = FailureLimiter(3, 60, clock)
        assert [run_async(limiter.failed("a")) for _ in range(3)] == [1, 2, 3]
        assert run_async(limiter.blocked("a")) and not run_async(limiter.blocked("b"))
        clock.now += 61
        assert not run_async(limiter.blocked("a")) and limiter.count("a") == 0

    def test_memory_stays_bounded_under_a_flood_of_keys(self):
        limiter = FailureLimiter(1, 60, Clock())

        async def flood() -> None:
            for n in range(TRACKED_KEYS + 5):
                await limiter.failed(f"10.0.{n // 256}.{n % 256}")

        run_async(flood())
        assert len(limiter._failures) == TRACKED_KEYS
        assert not run_async(limiter.blocked("10.0.0.0"))  # the least recently failed went first
        assert run_async(limiter.blocked(f"10.0.{(TRACKED_KEYS + 4) // 256}.{(TRACKED_KEYS + 4) % 256}"))


def handler(peer: str, headers: dict, proxies: tuple[str, ...] = ("127.0.0.5",)) -> RequestHandler:
    application = Application(**{TRUSTED_PROXIES_SETTING: trusted_networks(proxies)})
    request = HTTPServerRequest(start_line=RequestStartLine("GET", "/", "HTTP/1.1"), headers=HTTPHeaders({"Host": "rr.test", **headers}))
    request.remote_ip = peer
    request.connection = type("Connection", (), {"set_close_callback": lambda self, cb: None})()
    return RequestHandler(application, request)


class TestForwarded:
    def test_the_nearest_untrusted_hop_from_a_trusted_proxy(self):
        found = handler("127.0.0.5", {"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 127.0.0.5"})
        assert client_address(found) == "203.0.113.9"

    def test_headers_from_anyone_else_are_ignored(self):
        spoofed = handler("192.0.2.4", {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
        assert client_address(spoofed) == "192.0.2.4" and not came_over_https(spoofed)

    def test_no_proxy_configured_believes_nothing(self):
        plain = handler("127.0.0.5", {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}, proxies=())
        assert client_address(plain) == "127.0.0.5" and not came_over_https(plain)

    def test_a_malformed_hop_counts_against_the_proxy(self):
        assert client_address(handler("127.0.0.5", {"X-Forwarded-For": "unknown"})) == "127.0.0.5"

    def test_https_from_the_proxy(self):
        assert came_over_https(handler("127.0.0.5", {"X-Forwarded-Proto": "https"}))
        assert not came_over_https(handler("127.0.0.5", {"X-Forwarded-Proto": "http"}))

    def test_networks_are_accepted(self):
        assert client_address(handler("10.1.2.3", {"X-Forwarded-For": "203.0.113.9"}, ("10.1.2.0/24",))) == "203.0.113.9"


def test_trusted_proxy_typo_is_one_line(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "case.ipynb").write_text("{}")
    result = CliRunner().invoke(app, ["serve", str(tmp_path), "--trusted-proxy", "nginx.local"])
    assert result.exit_code != 0
    assert "--trusted-proxy 'nginx.local' is not an IP address or network" in result.output
    assert "Traceback" not in result.output


class TestScrub:
    def test_tokens_and_tickets_are_hidden_wherever_they_sit(self):
        line = "404 GET /readingroom/conference/3/stages/9?case=x&token=AbC-_12&ticket=4.ff00 (127.0.0.1) 2.1ms"
        assert scrub(line) == "404 GET /readingroom/conference/3/stages/9?case=x&token=[hidden]&ticket=[hidden] (127.0.0.1) 2.1ms"

    def test_the_filter_rewrites_a_record_whose_arguments_hold_the_uri(self):
        record = logging.LogRecord("tornado.access", logging.WARNING, __file__, 1, "%d %s", (403, "/x?token=s3cret"), None)
        HideSecrets().filter(record)
        assert record.getMessage() == "403 /x?token=[hidden]"


class TestSanitize:
    @pytest.mark.parametrize("markup", ["<script>alert(1)</script>", '<img src="x" onerror="alert(1)">',
                                        '<a href="javascript:alert(1)">x</a>', '<iframe src="/x"></iframe>',
                                        '<base href="//evil.example/">', '<svg onload="alert(1)"></svg>'])
    def test_nothing_that_runs_survives(self, markup):
        cleaned = markdown_html(f"Before\n\n{markup}\n\nAfter")
        for token in ("<script", "onerror", "onload", "javascript:", "<iframe", "<base", "<svg"):
            assert token not in cleaned
        assert "Before" in cleaned and "After" in cleaned

    def test_what_an_author_writes_reads_the_same(self):
        cleaned = markdown_html("## Findings\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```python\nx = 1\n```\n\n"
                                "**Bold** and [a link](https://radiopaedia.org) and ![a figure](images/key.png)")
        assert "<h2>Findings" in cleaned and '<td style="text-align:right">2</td>' in cleaned
        assert 'class="highlight"' in cleaned and "<strong>Bold</strong>" in cleaned
        assert 'href="https://radiopaedia.org"' in cleaned and 'src="images/key.png"' in cleaned
        assert " id=" not in cleaned  # ids could shadow the page's own elements

"""readingroom as a JupyterHub service (docs/deploy/jupyterhub_config*.py): people sign in at the hub.

A real hub (tests/hub_fixtures.py) starts readingroom, or finds it started beside it, and its proxy
forwards /services/readingroom/ to it; Chromium signs in at the hub and opens readingroom's pages
through that proxy.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from readingroom.records import RecordsStore
from tests.accessibility import assert_passes_axe
from tests.hub_fixtures import ADMIN, CONFIGS, DOCS, EDUCATOR, PLAIN, SERVICE_PREFIX, running_hub
from tests.servers import fetch_from
from tests.system_packages import require


@pytest.fixture(scope="module", params=["managed", "external"])
def hub(request, learning_dir, tmp_path_factory):
    """readingroom started by the hub, and started on its own beside it (docs/deploy.md shows both)."""
    with running_hub(learning_dir / "cases", tmp_path_factory.mktemp(f"jupyterhub-{request.param}"), request.param) as hub:
        yield hub


@contextmanager
def signed_in_at_the_hub(browser, hub, user: str, width: int = 1100) -> Iterator:
    """A browser of its own, ``width`` pixels wide, signed in at the hub's login page as ``user``."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(hub.url + "hub/login")
        page.locator("#username_input").fill(user)
        page.locator("#password_input").fill(hub.password(user))
        page.locator("#login_submit").click()
        expect(page).to_have_url(hub.url + "hub/home")
        yield page
    finally:
        context.close()


def get(hub, path: str, cookies: str = "") -> tuple[int, str, str]:
    """One request through the hub's proxy, redirects not followed: (status, Location, body)."""
    port = urllib.parse.urlsplit(hub.url).port
    status, headers, body = fetch_from("127.0.0.1", port, "GET", "/" + path, headers={"Cookie": cookies} if cookies else {})
    return status, headers.get("Location", ""), body.decode(errors="replace")


def test_a_hub_user_opens_a_module_signed_in_and_their_step_is_recorded_under_them(browser, hub, sample_module):
    module_url = f"{hub.service_url}modules/{sample_module.name}"
    with signed_in_at_the_hub(browser, hub, PLAIN) as page:
        page.get_by_role("button", name="Services").click()  # the hub lists readingroom among its services
        page.get_by_role("link", name="readingroom").click()
        expect(page).to_have_url(hub.service_url)
        page.goto(module_url)  # through the hub's OAuth and back, with no second sign-in
        expect(page).to_have_url(module_url)
        expect(page.locator("form.who")).to_contain_text(f"Signed in as {PLAIN}")
        expect(page.get_by_role("heading", level=1)).to_have_text(sample_module.title)
        expect(page.get_by_role("link", name="Start a conference")).to_have_count(0)  # a trainee, not an educator
        assert_passes_axe(page)
        page.locator("#acknowledge").click()
        expect(page.locator("#step-disclosures .status")).to_have_text("Done")
        with page.expect_response(lambda r: r.url == f"{module_url}/heartbeat") as beat:
            page.keyboard.press("Tab")  # in use: the page's time-on-task heartbeat, a fetch with its XSRF token
        assert beat.value.status == 204
    with RecordsStore(hub.records_url) as store:
        account = store.single_sign_on(PLAIN)  # the account the hub's sign-in made, not a new one
        assert account.username == PLAIN and not account.is_educator
        assert store.authenticate(PLAIN, "") is None  # no local password to guess
        progress = store.module_progress(account.id, sample_module.name)
        assert progress.disclosures_seen_at is not None and progress.last_heartbeat_at is not None


@pytest.mark.parametrize("user", [EDUCATOR, ADMIN], ids=["educators-group", "hub-admin"])
def test_hub_admins_and_the_educators_group_are_educators(browser, hub, user):
    with signed_in_at_the_hub(browser, hub, user) as page:
        page.goto(hub.service_url + "signin")  # the inbox answers only someone signed in here already
        expect(page.locator("form.who")).to_contain_text(f"Signed in as {user}")
        page.goto(hub.service_url + "readingroom/inbox")
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Inbox"))
        page.goto(hub.service_url + "modules")
        expect(page.get_by_role("link", name="Start a conference")).to_be_visible()
    with RecordsStore(hub.records_url) as store:
        assert store.single_sign_on(user).is_educator


def test_a_hub_educator_starts_a_conference_whose_console_connects_through_the_hubs_proxy(browser, hub):
    with signed_in_at_the_hub(browser, hub, EDUCATOR) as page:
        page.goto(hub.service_url + "signin")
        page.get_by_role("link", name="Start a conference").click()
        page.get_by_role("button", name="Start conference").click()
        expect(page).to_have_url(re.compile(rf"^{re.escape(hub.service_url)}readingroom/conference/\d+/present"))
        expect(page.locator("#status")).to_have_text("Connected", timeout=60_000)  # its websocket, via the proxy


def test_a_plain_hub_user_is_not_an_educator(browser, hub):
    with signed_in_at_the_hub(browser, hub, PLAIN) as page:
        page.goto(hub.service_url + "signin")
        expect(page.locator("form.who")).to_contain_text(f"Signed in as {PLAIN}")
        reply = page.goto(hub.service_url + "readingroom/inbox")
        assert reply.status == 403
        expect(page.locator("main")).to_have_text(re.compile("Only an educator can open the inbox"))


def test_signing_out_clears_readingrooms_cookie_and_says_how_to_leave_the_hub(browser, hub):
    with signed_in_at_the_hub(browser, hub, PLAIN, width=390) as page:  # a phone
        page.goto(hub.service_url + "signin")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(hub.service_url + "signout")
        expect(page.locator("main")).to_contain_text("You are signed out.")
        expect(page.get_by_role("link", name="sign out of JupyterHub")).to_have_attribute("href", "/hub/logout")
        assert_passes_axe(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits, nothing to scroll sideways
        page.goto(hub.service_url)
        expect(page.get_by_role("link", name="Sign in")).to_be_visible()  # readingroom no longer knows them


def sends_to_the_hubs_sign_in(hub, path: str, cookies: str = "") -> None:
    """The page sends the visitor to readingroom's sign-in, which sends them on to the hub's OAuth."""
    status, location, _ = get(hub, SERVICE_PREFIX + path, cookies)
    assert status == 302 and location.startswith(f"/{SERVICE_PREFIX}signin?next="), (status, location)
    status, location, _ = get(hub, location.lstrip("/"), cookies)
    assert status == 302, status
    target = urllib.parse.urlsplit(location)
    query = urllib.parse.parse_qs(target.query)
    assert target.path == "/hub/api/oauth2/authorize" and query["client_id"] == ["service-readingroom"]
    assert query["redirect_uri"] == [f"/{SERVICE_PREFIX}oauth_callback"] and query["code_challenge_method"] == ["S256"]


@pytest.mark.parametrize("cookies", ["", "service-readingroom=2|1:0|10:1700000000|19:service-readingroom|8:Zm9yZ2Vk|"
                                     + "0" * 64, "rr_user=1", "service-readingroom=garbage; rr_user=garbage"],
                         ids=["none", "forged-hub-token", "local-user-id", "garbage"])
def test_a_missing_or_forged_cookie_gets_the_hubs_sign_in_not_an_error(hub, sample_module, cookies):
    sends_to_the_hubs_sign_in(hub, f"modules/{sample_module.name}", cookies)
    status, _, body = get(hub, SERVICE_PREFIX + "readingroom/inbox", cookies)
    assert status == 403 and "Only an educator" in body


def test_a_forged_oauth_callback_is_refused_in_one_line(hub):
    status, _, body = get(hub, SERVICE_PREFIX + "oauth_callback?code=stolen&state=made-up")
    assert status == 403 and "oauth state does not match" in body and "Traceback" not in body


def test_with_the_hub_down_readingroom_says_so_in_one_line_and_its_public_pages_go_on(learning_dir, tmp_path,
                                                                                       sample_module):
    with running_hub(learning_dir / "cases", tmp_path, "external") as hub:
        hub.server.stop()  # the hub and its proxy go; readingroom, started beside it, stays
        port = hub.readingroom.port
        module = f"/{SERVICE_PREFIX}modules/{sample_module.name}"
        # A token readingroom has not seen yet must be checked with the hub, which does not answer.
        status, _, body = fetch_from("127.0.0.1", port, "GET", module, headers={"Authorization": "token unchecked"})
        assert status == 503 and "JupyterHub, which signs you in here, is not answering" in body.decode()
        assert "hub/api" not in body.decode() and "Traceback" not in body.decode()  # nothing of the hub's insides
        status, _, body = fetch_from("127.0.0.1", port, "GET", f"/{SERVICE_PREFIX}")
        assert status == 200 and ">Sign in<" in body.decode()  # the catalog, served as before, to visitors
        status, _, _ = fetch_from("127.0.0.1", port, "GET", module)
        assert status == 302  # nobody signed in: sent to sign in, which the hub will do once it is back


def test_the_deployment_guide_shows_the_very_configurations_the_hub_is_started_with():
    guide = (DOCS.parent / "deploy.md").read_text()
    for config in CONFIGS.values():
        assert config.read_text().strip() in guide, f"docs/deploy.md should show {config.name} as it is"


class TestServeOptions:
    """`serve --jupyterhub` outside a hub, or with options that contradict it: one line and exit 2, no server."""

    def run(self, monkeypatch, learning_dir, *options: str, **hub_variables: str):
        require("jupyterhub")
        from typer.testing import CliRunner

        from readingroom.cli import app
        from readingroom.server.hub import REQUIRED_ENVIRONMENT

        for name in REQUIRED_ENVIRONMENT:
            monkeypatch.delenv(name, raising=False)
        for name, value in hub_variables.items():
            monkeypatch.setenv(name, value)
        return CliRunner().invoke(app, ["serve", str(learning_dir / "cases"), *options])

    def test_outside_a_hub_the_missing_variables_are_named(self, monkeypatch, learning_dir):
        result = self.run(monkeypatch, learning_dir, "--jupyterhub", JUPYTERHUB_API_TOKEN="x")
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "JUPYTERHUB_API_URL" in result.output and "JUPYTERHUB_SERVICE_PREFIX" in result.output
        assert "JUPYTERHUB_API_TOKEN" not in result.output  # only the missing ones

    def test_an_educator_group_needs_the_hub(self, monkeypatch, learning_dir):
        result = self.run(monkeypatch, learning_dir, "--educator-group=educators")
        assert result.exit_code == 2 and "add --jupyterhub" in result.output

    def test_the_hub_and_a_trusted_header_are_two_sign_ins(self, monkeypatch, learning_dir):
        result = self.run(monkeypatch, learning_dir, "--jupyterhub", "--trusted-user-header=X-User")
        assert result.exit_code == 2 and "choose one" in result.output

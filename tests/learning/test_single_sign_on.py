"""Behind a sign-on proxy (oauth2-proxy with the hospital's OIDC provider): the proxy's header says who is signed in."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

import pytest

from readingroom.records import RecordsStore
from tests.servers import Server, jupyter_env, free_port

HEADER = "X-Forwarded-Preferred-Username"


@pytest.fixture(scope="module")
def behind_proxy(learning_dir, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sso")
    env = jupyter_env(workdir, workdir / "frame-cache", "serve")
    port = free_port()
    server = Server([sys.executable, "-m", "readingroom", "serve", str(learning_dir / "cases"), f"--port={port}",
                     "--pool-size=0", f"--trusted-user-header={HEADER}"], env, workdir, workdir / "serve.log", port,
                    "readingroom/catalog.json")
    server.records_url = env["READINGROOM_RECORDS"]
    yield server
    server.stop()


def fetch(server, path: str, user: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"{server.url}{path}", headers={HEADER: user} if user else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_proxys_user_is_signed_in_and_gets_an_account(behind_proxy, sample_module):
    status, page = fetch(behind_proxy, f"modules/{sample_module.name}", user="dr.okafor")
    assert status == 200 and "Signed in as dr.okafor" in page and sample_module.title in page
    with RecordsStore(behind_proxy.records_url) as store:
        account = store.single_sign_on("dr.okafor")  # the same account, not a second one
        assert account.username == "dr.okafor" and not account.is_educator
        assert store.authenticate("dr.okafor", "") is None  # no local password to guess


def test_without_the_header_nobody_is_signed_in_and_local_sign_in_is_off(behind_proxy):
    status, page = fetch(behind_proxy, "")
    assert status == 200 and "Signed in as" not in page
    status, page = fetch(behind_proxy, "signin")
    assert status == 404 and "single sign-on" in page


def test_a_header_that_is_not_a_name_signs_nobody_in(behind_proxy):
    assert "Signed in as" not in fetch(behind_proxy, "", user="x" * 300)[1]

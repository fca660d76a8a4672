"""A real JupyterHub with readingroom as its service, configured by docs/deploy/jupyterhub_config.py.

The hub's configuration is generated in three parts: the test's own hub settings (free loopback
ports for the hub, the proxy's API and the public proxy; the hub's database, cookie secret and the
proxy's pid file in a temporary folder; the hub's shared-password authenticator with one admin),
then docs/deploy/jupyterhub_config.py itself with its four site values set for the test, then who
is in the educators' group and the isolated Jupyter folders. The hub starts readingroom as that file
says; its proxy is configurable-http-proxy from node_modules (`make test` installs it).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import Server, free_port, jupyter_env, wait_http
from tests.system_packages import CONFIGURABLE_HTTP_PROXY, require

DOC_CONFIG = Path(__file__).resolve().parents[1] / "docs" / "deploy" / "jupyterhub_config.py"
USER_PASSWORD = "a hub user's test password"
ADMIN_PASSWORD = "the hub admin's test password, 32 characters or more"
PLAIN, EDUCATOR, ADMIN = "dr.okafor", "dr.mensah", "dr.admin"  # a trainee, a member of the educators' group, an admin
SERVICE_PREFIX = "services/readingroom/"


@dataclass
class Hub:
    server: Server  # the hub, which runs the proxy and readingroom
    records_url: str  # the store readingroom keeps its accounts in

    @property
    def url(self) -> str:
        """The public proxy, as browsers reach the hub."""
        return self.server.url

    @property
    def service_url(self) -> str:
        """readingroom through the hub's proxy."""
        return self.server.url + SERVICE_PREFIX

    def password(self, user: str) -> str:
        return ADMIN_PASSWORD if user == ADMIN else USER_PASSWORD


def with_site_values(text: str, **values: str) -> str:
    """The docs' config with its site values set: each must be set once, on a line of its own."""
    for name, value in values.items():
        text, count = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", text, flags=re.M)
        if count != 1:
            raise AssertionError(f"{DOC_CONFIG} should set {name} once, on a line of its own; it does {count} times")
    return text


def hub_config(workdir: Path, cases: Path, records_url: str, service_env: dict) -> tuple[str, int]:
    """The hub's configuration, and the port of its public proxy."""
    public, hub, proxy_api, readingroom = (free_port() for _ in range(4))
    test_hub = f"""
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{public}/"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api}"
c.ConfigurableHTTPProxy.command = [{str(CONFIGURABLE_HTTP_PROXY)!r}]
c.ConfigurableHTTPProxy.pid_file = {str(workdir / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{workdir / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(workdir / "jupyterhub_cookie_secret")!r}
c.JupyterHub.redirect_to_server = False  # no single-user servers here: after sign-in, the hub's home
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {USER_PASSWORD!r}
c.SharedPasswordAuthenticator.admin_password = {ADMIN_PASSWORD!r}
c.Authenticator.admin_users = {{{ADMIN!r}}}
c.Authenticator.allow_all = True
"""
    site = with_site_values(DOC_CONFIG.read_text(), READINGROOM_URL=f"http://127.0.0.1:{readingroom}",
                            CASES=str(cases), RECORDS=records_url)
    people = f"""
c.JupyterHub.load_groups.update({{EDUCATORS: {{"users": [{EDUCATOR!r}]}}}})
readingroom_service["environment"].update({service_env!r})
"""
    return test_hub + site + people, public


@contextmanager
def running_hub(cases: Path, workdir: Path) -> Iterator[Hub]:
    """The hub on free ports with readingroom serving ``cases`` as its service, until the block ends."""
    require("jupyterhub")
    require("node")
    env = jupyter_env(workdir, workdir / "frame-cache", "hub")
    records_url = env.pop("READINGROOM_RECORDS")  # the docs' RECORDS says where readingroom keeps them
    isolated = {name: value for name, value in env.items() if name != "PATH" and os.environ.get(name) != value}
    config = workdir / "jupyterhub_config.py"
    text, port = hub_config(workdir, cases, records_url, isolated)
    config.write_text(text)
    server = Server([sys.executable, "-m", "jupyterhub", "-f", str(config)], env, workdir, workdir / "jupyterhub.log",
                    port, "hub/health")
    try:
        wait_http(f"{server.url}{SERVICE_PREFIX}readingroom/catalog.json", server.proc, server.log, timeout=180)
        yield Hub(server, records_url)
    finally:
        server.stop()

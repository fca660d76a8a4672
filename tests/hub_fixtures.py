"""A real JupyterHub with readingroom as its service, configured by the files in docs/deploy/.

The hub's configuration is generated in three parts: the test's own hub settings (free loopback
ports for the hub, the proxy's API and the public proxy; the hub's database, cookie secret and the
proxy's pid file in a temporary folder; the hub's shared-password authenticator with one admin),
then the docs' jupyterhub_config.py (the hub starts readingroom) or jupyterhub_config_external.py
(readingroom started here, as an operator would, with the variables docs/deploy.md lists) with its
site values set for the test, then who is in the educators' group. The hub's proxy is
configurable-http-proxy from node_modules (`make test` installs it).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import Server, free_port, jupyter_env, wait_http
from tests.system_packages import CONFIGURABLE_HTTP_PROXY, require

DOCS = Path(__file__).resolve().parents[1] / "docs" / "deploy"
CONFIGS = {"managed": DOCS / "jupyterhub_config.py", "external": DOCS / "jupyterhub_config_external.py"}
USER_PASSWORD = "a hub user's test password"
ADMIN_PASSWORD = "the hub admin's test password, 32 characters or more"
PLAIN, EDUCATOR, ADMIN = "dr.okafor", "dr.mensah", "dr.admin"  # a trainee, a member of the educators' group, an admin
SERVICE_PREFIX = "services/readingroom/"
READY = SERVICE_PREFIX + "readingroom/catalog.json"


@dataclass
class Hub:
    server: Server  # the hub, which runs the proxy (and a managed readingroom)
    records_url: str  # the store readingroom keeps its accounts in
    readingroom: Server | None = None  # readingroom itself, when it runs beside the hub (an external service)

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


@dataclass(frozen=True)
class Ports:
    public: int = 0
    hub: int = 0
    proxy_api: int = 0
    readingroom: int = 0

    @classmethod
    def free(cls) -> Ports:
        return cls(*(free_port() for _ in range(4)))


def with_site_values(path: Path, **values: str) -> str:
    """The docs' config with its site values set: each must be set once, on a line of its own."""
    text = path.read_text()
    for name, value in values.items():
        text, count = re.subn(rf"^{name} = .*$", f"{name} = {value!r}", text, flags=re.M)
        if count != 1:
            raise AssertionError(f"{path} should set {name} once, on a line of its own; it does {count} times")
    return text


def hub_settings_for_tests(ports: Ports, workdir: Path) -> str:
    return f"""
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{ports.public}/"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{ports.hub}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{ports.proxy_api}"
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


def educators_group() -> str:
    return f'\nc.JupyterHub.load_groups.update({{EDUCATORS: {{"users": [{EDUCATOR!r}]}}}})\n'


def external_service_variables(ports: Ports, token: str) -> dict:
    """What docs/deploy.md says to set for a readingroom the hub does not start (the hub sets them for one it does)."""
    return {"JUPYTERHUB_API_TOKEN": token, "JUPYTERHUB_API_URL": f"http://127.0.0.1:{ports.hub}/hub/api",
            "JUPYTERHUB_CLIENT_ID": "service-readingroom", "JUPYTERHUB_SERVICE_NAME": "readingroom",
            "JUPYTERHUB_SERVICE_PREFIX": "/" + SERVICE_PREFIX}


@contextmanager
def running_hub(cases: Path, workdir: Path, kind: str = "managed") -> Iterator[Hub]:
    """The hub on free ports with readingroom serving ``cases`` as its ``kind`` of service, until the block ends."""
    require("jupyterhub")
    require("node")
    ports = Ports.free()
    env = jupyter_env(workdir, workdir / "frame-cache", "hub")
    records_url = env["READINGROOM_RECORDS"]
    url = f"http://127.0.0.1:{ports.readingroom}"
    readingroom = None
    with ExitStack() as stack:
        if kind == "managed":  # the hub starts readingroom, with the Jupyter folders kept apart as every test's are
            isolated = {name: value for name, value in env.items()
                        if name not in ("PATH", "READINGROOM_RECORDS") and os.environ.get(name) != value}
            site = with_site_values(CONFIGS[kind], READINGROOM_URL=url, CASES=str(cases), RECORDS=records_url)
            site += f'\nreadingroom_service["environment"].update({isolated!r})\n'
        else:
            env["READINGROOM_API_TOKEN"] = secrets.token_hex(32)
            site = with_site_values(CONFIGS[kind], READINGROOM_URL=url)
            groups = re.search(r'^EDUCATORS = "(.*)"', site, flags=re.M)[1]
            readingroom = Server(
                [sys.executable, "-m", "readingroom", "serve", str(cases), "--jupyterhub", f"--educator-group={groups}",
                 f"--port={ports.readingroom}"],
                {**env, **external_service_variables(ports, env["READINGROOM_API_TOKEN"])}, workdir,
                workdir / "readingroom.log", ports.readingroom, READY)
            stack.callback(readingroom.stop)
        config = workdir / "jupyterhub_config.py"
        config.write_text(hub_settings_for_tests(ports, workdir) + site + educators_group())
        hub = Server([sys.executable, "-m", "jupyterhub", "-f", str(config)], env, workdir, workdir / "jupyterhub.log",
                     ports.public, "hub/health")
        stack.callback(hub.stop)
        wait_http(hub.url + READY, hub.proc, hub.log, timeout=180)
        yield Hub(hub, records_url, readingroom)

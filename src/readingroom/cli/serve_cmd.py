"""`readingroom serve`: the catalog and case pages on standalone Voila (visitors send no code)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from readingroom.cli.app import app
from readingroom.errors import InputError


def public_address(given: str) -> str:
    """``--public-url`` checked: an http(s) address with no query, without its trailing slash."""
    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"--public-url {given}: give the address users open, e.g. https://rr.hospital.org")
    return given.rstrip("/")


REDIS_HELP = ("Redis shared by several serving processes behind one address (nginx), e.g. redis://10.0.0.5:6379/0: "
              "conference rooms, join codes and limits live there, so any process serves any participant. Keep it "
              "private to these processes. Default: none, everything in this process.")


def redis_arguments(url: str) -> list[str]:
    """``--redis`` as the serving app's option (checked when the app starts: it must answer then)."""
    return [f"--ServeVoila.redis_url={url}"] if url else []


def proxy_arguments(given: list[str] | None) -> list[str]:
    """``--trusted-proxy`` values checked (one line on a typo), as the serving app's options."""
    from readingroom.server.forwarded import trusted_networks

    return [f"--ServeVoila.trusted_proxies={network}" for network in trusted_networks(given or [])]


@app.command()
def serve(
    cases: Annotated[Path, typer.Argument(help="Folder holding the cases (cases/<slug>/case.ipynb).")] = Path("cases"),
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8866,
    ip: Annotated[str, typer.Option("--ip", help="Address to listen on; 0.0.0.0 for every interface.")] = "127.0.0.1",
    pool_size: Annotated[int, typer.Option("--pool-size", help="Kernels kept preheated per live case, one whose "
                                         "notebook uses widgets that need a kernel; other cases need none (0: none).")] = 1,
    cull_idle: Annotated[int, typer.Option("--cull-idle", help="Shut kernels down after this many idle seconds.")] = 600,
    max_kernels: Annotated[int, typer.Option("--max-kernels", help="Kernels visitors of live cases may hold at once, "
                                             "one each; beyond it they wait in line, offered the case without a kernel "
                                             "(0: what fits in 3/4 of the available memory, ~120 MB each).")] = 0,
    records: Annotated[str, typer.Option("--records", help="Records store URL (default: $READINGROOM_RECORDS or "
                                         "~/.local/share/readingroom/records.sqlite), e.g. postgresql+psycopg://rr@db/rr.")] = "",
    curriculum: Annotated[Path | None, typer.Option(
        "--curriculum", help="Folder of curriculum modules (<name>.yaml); default: curriculum/ next to the cases folder.",
    )] = None,
    public_url: Annotated[str, typer.Option(
        "--public-url", help="The address users open, e.g. https://rr.hospital.org behind a proxy: used in join QR "
        "codes and on certificates (default: the address each request came to).",
    )] = "",
    inbox: Annotated[Path | None, typer.Option(
        "--inbox", help="Drafts from `readingroom receive`, shown to educators at /readingroom/inbox "
        "(default ~/.local/share/readingroom/inbox).")] = None,
    trusted_user_header: Annotated[str, typer.Option(
        "--trusted-user-header", help="Behind a single-sign-on proxy (oauth2-proxy with your OIDC provider): the header "
        "naming the signed-in user, e.g. X-Forwarded-Preferred-Username. Only when that proxy is the sole way in.",
    )] = "",
    trusted_proxy: Annotated[list[str] | None, typer.Option(
        "--trusted-proxy", help="The address (or network) of your TLS proxy, e.g. 127.0.0.1; repeat for several. Only "
        "from it are X-Forwarded-For and X-Forwarded-Proto believed: the limits on wrong codes and passwords then "
        "count each client, and cookies are Secure when the proxy says https.",
    )] = None,
    redis: Annotated[str, typer.Option("--redis", help=REDIS_HELP)] = "",
) -> None:
    """Serve the catalog at / and each case at /cases/<id>/; cases failing the PHI checks are withheld.

    Each case is run once (at start-up, and again after an edit) and its page needs no kernel.
    """
    if not cases.is_dir():
        raise InputError(f"{cases}: no such folder; give the folder that holds your cases, e.g. `readingroom serve cases`")
    if not any(cases.glob("*/case.ipynb")):
        raise InputError(f"{cases}: no cases found (expected {cases}/<slug>/case.ipynb); create one with `readingroom new`")
    if not 0 < port < 65536:
        raise InputError(f"--port {port} is not a port number (1-65535)")
    if pool_size < 0 or cull_idle < 0 or max_kernels < 0:
        raise InputError("--pool-size, --cull-idle and --max-kernels must be 0 or more")
    public = public_address(public_url) if public_url else ""
    if trusted_user_header and not re.fullmatch(r"[A-Za-z0-9-]{1,100}", trusted_user_header):
        raise InputError(f"--trusted-user-header {trusted_user_header!r} is not a header name (letters, digits, -)")
    if curriculum is not None and not curriculum.is_dir():
        raise InputError(f"--curriculum {curriculum}: no such folder; give the folder holding the <module>.yaml files")
    proxies = proxy_arguments(trusted_proxy)
    from readingroom.curriculum import find_modules
    from readingroom.server.learning import curriculum_folder
    from readingroom.server.serve_app import ServeVoila

    modules_dir = curriculum_folder(str(curriculum or ""), cases.resolve())
    find_modules(modules_dir, cases_root=cases.resolve())  # a broken module is one line here, not a traceback later

    ServeVoila.launch_instance([
        str(cases.resolve()), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
        f"--ServeVoila.pool_size={pool_size}", f"--ServeVoila.cull_idle_timeout={cull_idle}",
        f"--ServeVoila.max_live_kernels={max_kernels}",
        *([f"--ServeVoila.records_url={records}"] if records else []),
        f"--ServeVoila.curriculum_dir={modules_dir}",
        *([f"--ServeVoila.trusted_user_header={trusted_user_header}"] if trusted_user_header else []),
        *([f"--ServeVoila.public_url={public}"] if public else []), *proxies,
        *([f"--ServeVoila.inbox_dir={inbox.resolve()}"] if inbox else []), *redis_arguments(redis),
    ])

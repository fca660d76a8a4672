"""`readingroom receive`: the "send to teaching file" destination for a PACS."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from readingroom.cli.app import app


@app.command()
def receive(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="DICOM port to listen on.")] = 11112,
    aet: Annotated[str, typer.Option("--aet", help="Our AE title, as the PACS's administrator enters it.")] = "READINGROOM",
    inbox: Annotated[Path | None, typer.Option("--inbox", help="Where drafts go (default ~/.local/share/readingroom/inbox).")] = None,
    quiet: Annotated[float, typer.Option("--quiet", min=1, help="Seconds a study must be quiet before it becomes a draft.")] = 30.0,
    key: Annotated[Path | None, typer.Option("--key", help="De-identification key file (created on first use).")] = None,
) -> None:
    """Receive studies (C-STORE), de-identify each instance on arrival, and make drafts for the inbox page."""
    from readingroom.deid import default_key_path, load_or_create_key
    from readingroom.errors import InputError
    from readingroom.inflow.drafts import default_inbox
    from readingroom.inflow.receiver import serve

    if not 1 <= len(aet) <= 16 or not aet.isascii():
        raise InputError(f"--aet {aet!r}: an AE title is 1-16 ASCII characters")
    inbox = inbox or default_inbox()
    secret = load_or_create_key(key or default_key_path(), forbidden=(inbox,))
    # Plain lines on stderr, never cut to the terminal's width: a service's log is read later, often by grep.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr, force=True)
    try:
        serve(inbox, secret, aet=aet, port=port, quiet_s=quiet)
    except OSError as error:
        raise InputError(f"cannot listen on port {port} ({error.strerror}); choose another --port") from None

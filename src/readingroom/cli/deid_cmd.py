"""`readingroom deid`: de-identify a study into a folder, with a PHI-free report.

Exit status: 0 when every input was written; 3 when some were held back (listed on
stderr by index and reason, never by name, since paths may carry PHI); 2 for bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from readingroom.cli.app import app, err_console
from readingroom.cli.progress import progress_bar
from readingroom.deid import deidentify
from readingroom.deid.writer import REPORT_NAME

HELD_BACK_EXIT = 3


@app.command()
def deid(
    source: Annotated[Path, typer.Argument(help="A DICOM file, folder, zip or DICOMDIR.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for the de-identified files (created).")],
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Secret key file; created on first use (mode 600). Default: ~/.config/readingroom/deid.key"),
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Processes to use; default: one per core.")] = None,
) -> None:
    """De-identify SOURCE into OUTPUT: PS3.15 Basic Profile, keyed pseudonyms, burned-in text masked."""
    with progress_bar("de-identifying") as update:
        report = deidentify(source, output, key_path=key, workers=workers, progress=update)
    err_console.print(
        f"{report.written} of {report.inputs} files written to {escape(str(output))}; "
        f"report: {escape(str(output / REPORT_NAME))}"
    )
    if report.held_back:
        err_console.print(f"[bold yellow]{len(report.held_back)} held back[/] (input index in sorted source order: reason):")
        for held in report.held_back:
            err_console.print(f"  #{held.index}: {escape(held.reason)}")
        raise typer.Exit(HELD_BACK_EXIT)

"""`readingroom new` and `readingroom check`: authoring teaching cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from readingroom.cli.app import app, out_console
from readingroom.cli.progress import progress_bar
from readingroom.errors import InputError

CHECK_FAILED_EXIT = 1


@app.command()
def new(
    title: Annotated[str, typer.Argument(help='The diagnosis, e.g. "Acute subdural haematoma".')],
    source: Annotated[Path, typer.Option("--from", help="The study: a DICOM file, folder, zip or DICOMDIR.")],
    cases: Annotated[Path, typer.Option("--cases", help="Folder holding the cases.")] = Path("cases"),
    key: Annotated[Path | None, typer.Option("--key", help="De-identification key file (created on first use).")] = None,
) -> None:
    """Create a case: de-identify the study into cases/<slug>/ and write its notebook."""
    from readingroom.case import new_case

    with progress_bar("de-identifying") as update:
        made = new_case(title, source, cases, key_path=key, progress=update)
    out_console.print(f"created {escape(str(made.folder))} with {made.series} series", markup=False)
    if made.held_back:
        out_console.print(f"[yellow]{made.held_back} input file(s) held back; see {escape(str(made.folder / 'deid.json'))}[/]")
    out_console.print("next: open case.ipynb in JupyterLab, replace every TODO, then run "
                      f"`readingroom check {escape(str(made.folder))}`", markup=False)


@app.command()
def check(
    paths: Annotated[list[Path] | None, typer.Argument(help="Case folders; default: every folder in cases/.")] = None,
    execute: Annotated[bool, typer.Option("--execute/--no-execute", help="Run each notebook headless.")] = True,
) -> None:
    """Check cases: metadata, reveal order, identifiers in text and images, a clean run."""
    from readingroom.case import check_case

    folders = paths or _all_cases(Path("cases"))
    if not folders:
        raise InputError("no case folders given and none under ./cases; pass case folders to check")
    failed = 0
    for folder in folders:
        if not folder.is_dir():
            raise InputError(f"{folder}: not a case folder")
        verdict = check_case(folder, execute=execute)
        if verdict.passed:
            out_console.print(f"[green]ok[/]   {escape(str(folder))}")
            continue
        failed += 1
        out_console.print(f"[red]FAIL[/] {escape(str(folder))}")
        for problem in verdict.problems:
            out_console.print(f"       - {escape(problem)}")
    if failed:
        out_console.print(f"{failed} of {len(folders)} case(s) failed")
        raise typer.Exit(CHECK_FAILED_EXIT)


def _all_cases(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

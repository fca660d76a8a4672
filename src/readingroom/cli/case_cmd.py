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
    source: Annotated[str, typer.Option("--from", help="The study: a DICOM file, folder, zip or DICOMDIR; a DICOMweb "
                                        "URL (https://HOST/.../studies/UID[/series/UID]); or dicom://AET@HOST:PORT/UID[/UID] (C-GET).")],
    cases: Annotated[Path, typer.Option("--cases", help="Folder holding the cases.")] = Path("cases"),
    key: Annotated[Path | None, typer.Option("--key", help="De-identification key file (created on first use).")] = None,
    token_file: Annotated[Path | None, typer.Option("--token-file", help="DICOMweb: a file holding the bearer token "
                                                    "(else READINGROOM_DICOMWEB_TOKEN, READINGROOM_DICOMWEB_USER/_PASSWORD or ~/.netrc).")] = None,
    calling_aet: Annotated[str, typer.Option("--calling-aet", help="dicom://: our AE title, as the PACS knows it.")] = "READINGROOM",
    move_port: Annotated[int | None, typer.Option("--move-port", help="dicom://: if the PACS refuses C-GET, listen here "
                                                  "for a C-MOVE to --calling-aet.")] = None,
) -> None:
    """Create a case: de-identify the study into cases/<slug>/ and write its notebook."""
    from readingroom.inflow.locations import is_remote

    with progress_bar("fetching and de-identifying" if is_remote(source) else "de-identifying") as update:
        if is_remote(source):
            from readingroom.inflow.importing import import_case

            made = import_case(title, source, cases, key_path=key, token_file=token_file, calling_aet=calling_aet,
                               move_port=move_port, progress=update)
        else:
            from readingroom.case import new_case

            made = new_case(title, Path(source), cases, key_path=key, progress=update)
    out_console.print(f"created {escape(str(made.folder))} with {made.series} series", markup=False)
    if made.held_back:
        out_console.print(f"[yellow]{made.held_back} input file(s) held back; see {escape(str(made.folder / 'deid.json'))}[/]")
    out_console.print("next: open case.ipynb in JupyterLab, replace every TODO, then run "
                      f"`readingroom check {escape(str(made.folder))}`", markup=False)


@app.command()
def check(
    paths: Annotated[list[Path] | None, typer.Argument(help="Case folders, module .yaml files or curriculum/ folders; "
                                                       "default: every case in cases/ and module in curriculum/.")] = None,
    execute: Annotated[bool, typer.Option("--execute/--no-execute", help="Run each notebook headless.")] = True,
) -> None:
    """Check cases (metadata, reveal order, identifiers in text and images, a clean run) and curriculum modules."""
    targets = _expand(paths) if paths else _all_cases(Path("cases")) + _all_modules(Path("curriculum"))
    if not targets:
        raise InputError("nothing to check under ./cases or ./curriculum; pass case folders or module .yaml files")
    failed = 0
    for target in targets:
        problems = _problems(target, execute)
        if not problems:
            out_console.print(f"[green]ok[/]   {escape(str(target))}")
            continue
        failed += 1
        out_console.print(f"[red]FAIL[/] {escape(str(target))}")
        for problem in problems:
            out_console.print(f"       - {escape(problem)}")
    if failed:
        out_console.print(f"{failed} of {len(targets)} case(s) and module(s) failed")
        raise typer.Exit(CHECK_FAILED_EXIT)


def _problems(target: Path, execute: bool) -> list[str]:
    """A module file is checked against the cases/ folder beside its curriculum/ folder."""
    from readingroom.case import check_case
    from readingroom.curriculum import module_problems

    if target.is_file():
        return module_problems(target, cases_root=target.resolve().parent.parent / "cases")
    if not target.is_dir():
        raise InputError(f"{target}: no such case folder or module file")
    return check_case(target, execute=execute).problems


def _expand(paths: list[Path]) -> list[Path]:
    """A folder of modules (curriculum/) stands for its .yaml files; a case folder holds case.ipynb."""
    from readingroom.case.check import NOTEBOOK

    targets: list[Path] = []
    for path in paths:
        modules = _all_modules(path) if path.is_dir() and not (path / NOTEBOOK).exists() else []
        targets += modules or [path]
    return targets


def _all_modules(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _all_cases(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

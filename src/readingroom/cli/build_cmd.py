"""`readingroom build`: the catalog, case and module pages as a static site any web server can host."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from readingroom.cli.app import app, out_console
from readingroom.cli.progress import progress_bar


@app.command()
def build(
    names: Annotated[list[str] | None, typer.Argument(
        help="Cases (folder names in the cases folder) and modules (curriculum file names without .yaml) "
             "to build; a module brings its cases. Default: every case and module.")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the site into.")] = Path("build/site"),
    cases: Annotated[Path, typer.Option("--cases", help="Folder holding the cases.", exists=True, file_okay=False)]
    = Path("cases"),
    curriculum: Annotated[Path | None, typer.Option(
        "--curriculum", help="Folder of curriculum modules; default: curriculum/ next to the cases folder.")] = None,
    server: Annotated[str, typer.Option(
        "--server", help="Your readingroom server, e.g. https://rr.example.org: the pages send learners' answers and "
        "time there (they sign in there; serve it with --site-origin <this site's origin>). Without it the site is "
        "self-study only.")] = "",
) -> None:
    """Write a static site: catalog, case pages (staged reveal, questions checked in the page) and module pages.

    Serve the folder from any static host, under any path. A rebuild redoes only the cases that changed.
    """
    from readingroom.build import build as build_site
    from readingroom.build import plan

    site_plan = plan(cases, curriculum or cases.parent / "curriculum", names or (), server=server)
    with progress_bar("building") as update:
        done = []
        update(0, len(site_plan.cases))
        report = build_site(site_plan, cases, output,
                            on_case=lambda slug: (done.append(slug), update(len(done), len(site_plan.cases))))
    for slug, problems in site_plan.withheld.items():
        out_console.print(f"left out {slug}: it fails the de-identification checks ({problems[0]})", markup=False)
    out_console.print(f"{output}: {len(site_plan.cases)} case(s), {len(site_plan.modules)} module(s); "
                      f"{len(report.built)} built, {len(report.unchanged)} unchanged", markup=False)
    if site_plan.server:
        out_console.print(f"answers and time on task go to {site_plan.server}: serve it with --site-origin "
                          "<the origin this site is served from>", markup=False)
    else:
        out_console.print("self-study only: no --server, so the site records no answers, tests or credit", markup=False)

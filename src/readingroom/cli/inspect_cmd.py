"""`readingroom inspect`: what is in a study folder, without any patient identifiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from readingroom.cli.app import app, out_console
from readingroom.cli.opening import open_source
from readingroom.dicom import Collection, Series


@app.command()
def inspect(
    path: Annotated[Path, typer.Argument(help="A DICOM file, folder, zip or DICOMDIR.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List studies and series: modality, frames, size, spacing, encoding."""
    collection = open_source(path)
    if as_json:
        typer.echo(json.dumps(describe(collection), indent=2))
        return
    for number, study in enumerate(describe(collection)["studies"], start=1):
        table = Table(title=f"Study {number}: {escape(study['description'] or '(no description)')}", title_justify="left")
        for heading in ("#", "modality", "description", "frames", "size", "spacing (mm)", "photometric", "transfer syntax", "body part"):
            table.add_column(heading, overflow="fold")
        for s in study["series"]:
            table.add_row(
                str(s["index"]), s["modality"], escape(s["description"]), str(s["frames"]),
                f"{s['columns']}x{s['rows']}", _spacing_text(s), s["photometric"], s["transfer_syntax"], escape(s["body_part"]),
            )
        out_console.print(table)
        for s in study["series"]:
            for warning in s["warnings"]:
                out_console.print(f"  series {s['index']}: [yellow]{escape(warning)}[/]")


def describe(collection: Collection) -> dict:
    """A PHI-free description: no names, IDs, dates, institutions or UIDs."""
    index = iter(range(1, len(collection.series) + 1))
    return {
        "studies": [
            {"description": study.description, "series": [_describe_series(s, next(index)) for s in study.series]}
            for study in collection.studies
        ],
        "problems": [{"file": p.label, "problem": p.message} for p in collection.problems],
    }


def _describe_series(series: Series, index: int) -> dict:
    spacing = series.pixel_spacing
    return {
        "index": index,
        "number": series.number,
        "modality": series.modality,
        "description": series.description,
        "body_part": series.body_part,
        "frames": series.frame_count,
        "rows": series.rows,
        "columns": series.columns,
        "pixel_spacing": [spacing.row, spacing.column] if spacing else None,
        "spacing_at_detector": spacing.detector_plane if spacing else None,
        "slice_spacing": series.slice_spacing,
        "regular_volume": series.regular,
        "photometric": series.photometric,
        "transfer_syntax": series.transfer_syntax,
        "warnings": series.warnings,
    }


def _spacing_text(series: dict) -> str:
    if not series["pixel_spacing"]:
        return "unknown"
    row, column = series["pixel_spacing"]
    text = f"{row:g} x {column:g}"
    if series["slice_spacing"]:
        text += f" x {series['slice_spacing']:g}"
    return text + (" (detector)" if series["spacing_at_detector"] else "")

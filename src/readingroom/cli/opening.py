"""Shared by commands that take a DICOM source: open it with progress, report skipped files."""

from __future__ import annotations

from pathlib import Path

from readingroom.cli.app import err_console
from readingroom.cli.progress import progress_bar
from readingroom.dicom import Collection, Series, open_path
from readingroom.errors import InputError
from rich.markup import escape


def open_source(path: Path) -> Collection:
    with progress_bar("Reading headers") as update:
        collection = open_path(path, progress=update)
    report_problems(collection)
    return collection


def report_problems(collection: Collection) -> None:
    """List unusable files on stderr: the good ones were opened anyway."""
    if not collection.problems:
        return
    err_console.print(f"[yellow]skipped {len(collection.problems)} file(s):[/]")
    for problem in collection.problems:
        err_console.print(f"  {escape(problem.message)}")


def pick_series(collection: Collection, number: int) -> Series:
    """Series by its 1-based position in `readingroom inspect`'s listing."""
    series = collection.series
    if not 1 <= number <= len(series):
        raise InputError(f"--series {number} does not exist; this source has series 1 to {len(series)} (see `readingroom inspect`)")
    return series[number - 1]

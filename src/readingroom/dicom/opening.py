"""Open any DICOM source into a :class:`Collection`, reading headers only."""

from __future__ import annotations

import os
from collections.abc import Callable

from readingroom.dicom.assemble import assemble
from readingroom.dicom.headers import read_instance
from readingroom.dicom.limits import InputLimits
from readingroom.dicom.model import Collection, Problem
from readingroom.dicom.sources import list_source_files
from readingroom.errors import InputError

Progress = Callable[[int, int], None]


def open_path(source: str | os.PathLike, progress: Progress | None = None,
              limits: InputLimits | None = None) -> Collection:
    """Open a file, folder, zip or DICOMDIR; unusable files are listed, not fatal.

    Raises :class:`InputError` only when nothing usable is there at all, with the
    reason for a single file or a summary for several; ``limits`` default to the environment's.
    """
    files = list_source_files(source, limits)
    if not files:
        raise InputError(f"{source}: no files found; point at a DICOM file, a folder of them, a zip or a DICOMDIR")
    instances, problems = [], []
    for done, source_file in enumerate(files, start=1):
        try:
            instances.append(read_instance(source_file))
        except InputError as error:
            problems.append(Problem(label=source_file.label, message=str(error)))
        if progress:
            progress(done, len(files))
    if not instances:
        if len(problems) == 1:
            raise InputError(problems[0].message)
        raise InputError(f"{source}: none of the {len(problems)} files is a usable DICOM image (first: {problems[0].message})")
    return Collection(studies=assemble(instances), problems=problems)


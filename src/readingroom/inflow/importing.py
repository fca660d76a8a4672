"""`readingroom new --from URL`: a study on a PACS becomes a case, de-identified as it arrives.

The case is made by :func:`readingroom.case.build_case`, the same path as a folder
import, with an :class:`Intake` filling its images.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from readingroom.case import Filled, NewCase, build_case
from readingroom.case.check import DEID_REPORT, IMAGES
from readingroom.deid import default_key_path, load_or_create_key
from readingroom.errors import InputError
from readingroom.inflow.intake import Intake
from readingroom.inflow.locations import DicomWebStudy, parse_location


def import_case(title: str, url: str, cases_dir: Path, *, key_path: Path | None = None, token_file: Path | None = None,
                calling_aet: str = "READINGROOM", move_port: int | None = None,
                progress: Callable[[int, int], None] | None = None) -> NewCase:
    location = parse_location(url)
    key = load_or_create_key(key_path or default_key_path(), forbidden=(cases_dir,))

    def fill(building: Path) -> Filled:
        intake = Intake(building / IMAGES, key)
        if isinstance(location, DicomWebStudy):
            from readingroom.inflow.dicomweb import dicomweb_session, fetch_dicomweb

            fetch_dicomweb(location, intake, session=dicomweb_session(token_file), progress=progress)
        else:
            from readingroom.inflow.dimse import fetch_dimse

            fetch_dimse(location, intake, calling_aet=calling_aet, move_port=move_port, progress=progress)
        return write_report(intake, building)

    return build_case(title, cases_dir, fill)


def write_report(intake: Intake, folder: Path) -> Filled:
    """``deid.json`` beside ``images/``; returns what the case starts from."""
    report = intake.report()
    if report.written == 0:
        raise InputError(f"no image could be de-identified safely ({len(report.held_back)} held back); nothing to teach from")
    (folder / DEID_REPORT).write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return intake.filled()

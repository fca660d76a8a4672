"""The educator's inbox: draft cases made from studies sent to `receive`.

A draft is a case folder under the inbox with a ``draft.json`` beside its notebook.
"Make a case" builds a case in ``cases/`` from the draft's images through
:func:`readingroom.case.build_case`, the same path as ``readingroom new``, then removes
the draft; "delete" removes it. Draft names are checked, so a request cannot reach
outside the inbox.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from readingroom.case.check import DEID_REPORT, IMAGES
from readingroom.errors import InputError

DRAFT_FILE = "draft.json"
_NAME = re.compile(r"[0-9a-f]{8}(-[0-9]+)?")


@dataclass(frozen=True)
class Draft:
    name: str
    title: str
    notes: str | None
    images: int
    key_images: list[str]
    received: float

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_folder(cls, folder: Path) -> Draft:
        data = json.loads((folder / DRAFT_FILE).read_text())
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def default_inbox() -> Path:
    """``$XDG_DATA_HOME/readingroom/inbox`` (``~/.local/share/...`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "readingroom" / "inbox"


def list_drafts(inbox: Path) -> list[Draft]:
    """Every finished draft, newest first (half-built ones are hidden folders, never listed)."""
    found = [Draft.from_folder(p) for p in inbox.iterdir() if _NAME.fullmatch(p.name) and (p / DRAFT_FILE).is_file()] \
        if inbox.is_dir() else []
    return sorted(found, key=lambda d: d.received, reverse=True)


def draft_folder(inbox: Path, name: str) -> Path:
    folder = inbox / name
    if not _NAME.fullmatch(name) or not (folder / DRAFT_FILE).is_file():
        raise InputError(f"no draft named {name!r} in the inbox; it may have been made into a case or deleted")
    return folder


def make_case(inbox: Path, name: str, cases_dir: Path, title: str | None = None) -> Path:
    """The draft becomes ``cases/<slug of title>/``; returns that folder."""
    from readingroom.case import Filled, build_case

    folder = draft_folder(inbox, name)
    draft = Draft.from_folder(folder)

    def fill(building: Path) -> Filled:
        shutil.copytree(folder / IMAGES, building / IMAGES)
        shutil.copy2(folder / DEID_REPORT, building / DEID_REPORT)
        held_back = len(json.loads((folder / DEID_REPORT).read_text()).get("held_back", []))
        return Filled(held_back=held_back, key_images=frozenset(draft.key_images), presentation=draft.notes)

    made = build_case((title or draft.title).strip(), cases_dir, fill)
    delete_draft(inbox, name)
    return made.folder


def delete_draft(inbox: Path, name: str) -> None:
    """Remove a draft: renamed out of the listing first, so a crash never leaves half of one listed."""
    folder = draft_folder(inbox, name)
    doomed = folder.with_name(f".{name}.deleting.partial")
    os.replace(folder, doomed)
    shutil.rmtree(doomed, ignore_errors=True)

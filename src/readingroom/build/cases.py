"""One case as static files: its page, its later stages, its frames and its thumbnail.

The page comes from the same renderer ``serve`` uses (:func:`~readingroom.server.case_pages.case_page_html`)
after the same one run of the case; only where stages and scores come from differ:

- each later stage is a file named by the digest of its own content, handed out with the
  stage before it (the page holds the first name), so a page loads no stage's text before
  its reveal. A static host cannot refuse a file to whoever knows its name: the names are
  in no page, but a module's list for "Save for offline" holds them (fetched only on saving);
- questions are checked in the page against salted hashes (:mod:`.keys`); each stage's file
  brings the answers, feedback and explanations of the questions before it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import jinja2

from readingroom.build.keys import hashed_key, question_salt
from readingroom.build.offline import FRAMES, frame_blobs
from readingroom.build.output import SiteWriter
from readingroom.errors import InputError
from readingroom.frames.cache import FrameCache
from readingroom.server.case_pages import (
    PAGE_BASE,
    RUN_TIMEOUT,
    CaseRun,
    case_page_html,
    read_run,
)
from readingroom.server.case_run import CaseRunError, CaseRunner
from readingroom.server.catalog import Card
from readingroom.server.stages import stage_label, unknown_view
from readingroom.server.thumbs import render_thumbnail

@dataclass(frozen=True)
class BuiltCase:
    """What a case's files are, so a rebuild can tell they are all still there."""

    files: tuple[str, ...]
    frames_bytes: int


def stages_folder(card: Card) -> str:
    return f"readingroom/cases/{card.id}/stages"


def run_case(card: Card, cases_dir: Path) -> CaseRun:
    """The case's one run, as ``serve`` runs it; a case that needs a kernel per visitor cannot be built."""
    view = unknown_view(card.notebook, case_id=card.id, secret=b"", version=card.version, all_stages=True)
    try:
        ran = asyncio.run(CaseRunner().run(view, cases_dir / card.slug, RUN_TIMEOUT))
    except CaseRunError as error:
        raise InputError(f"{card.slug}: the notebook failed when run: {error}. Run `readingroom check "
                         f"{cases_dir / card.slug}` to see why.") from None
    run = read_run(card, ran)
    if run.live_reason:
        raise InputError(f"{card.slug}: {run.live_reason}, so it cannot be a static page: serve it with "
                         "`readingroom serve`, or leave it out of the build")
    return run


def write_case(card: Card, run: CaseRun, cases_dir: Path, environment: jinja2.Environment, site: SiteWriter,
               frames: FrameCache, *, records: str = "") -> BuiltCase:
    """Write the case's page, stage files, frames and thumbnail under ``site``; ``records``: where its answers go."""
    files = []
    next_key = None
    for number in range(len(run.later_stages), 0, -1):  # last first: each stage names the next one's file
        stage = run.later_stages[number - 1]
        answers = {model_id: key.explained() for model_id, key in run.keys.items()
                   if run.key_stage[model_id] == number - 1}
        following = None if next_key is None else {"number": number + 1, "label": stage_label(run.notebook, number + 1),
                                                    "key": next_key}
        body = json.dumps({"number": number, **stage.for_page(), "answers": answers, "next": following},
                          separators=(",", ":")).encode()
        next_key = hashlib.blake2b(body, digest_size=16).hexdigest()
        files.append(site.write(f"{stages_folder(card)}/{next_key}.json", body))
    files.append(site.write(f"{stages_folder(card)}/index.html", b""))  # no listing of the stage files
    keys = {model_id: hashed_key(key, question_salt(card.version, model_id)) for model_id, key in run.keys.items()}
    page = case_page_html(environment, run, stages_url=f"{PAGE_BASE}{stages_folder(card)}/{{key}}.json",
                          first_key=next_key, scoring={"keys": keys}, records=records,
                          frame_bundles=False)
    files.append(site.write(f"cases/{card.id}/index.html", page.encode()))
    files.append(site.write(f"readingroom/thumbnails/{card.id}-{card.version}.jpg",
                            render_thumbnail(cases_dir / card.slug / "images")))
    size = 0
    for digest, kind in sorted(frame_blobs([run.widgets] + [s.for_page() for s in run.later_stages])):
        source = frames.blob_path(digest, kind)
        if source is None or not source.is_file():
            raise InputError(f"{card.slug}: frame {digest}.{kind} is missing from the frame cache {frames.root}; "
                             "build again (the cache may have been cleaned while building)")
        files.append(site.copy(f"{FRAMES}/{digest}.{kind}", source))
        size += source.stat().st_size
    return BuiltCase(tuple(files), size)

"""The PHI gate: a case is served only while it passes `readingroom check` (without running it).

The check re-verifies every image: headers, and for ultrasound, screen captures and
flagged images the pixels themselves, read with OCR whatever the Burned In Annotation
flag says (no OCR engine fails the case). That takes seconds per such image, so the
verdict is cached per case and recomputed only when a file in the case folder changes
(size or modification time), e.g. after an educator edits it. The check itself is
:func:`case_problems`, a plain function: the serving app runs it in a worker process
(:mod:`.dicom_jobs`) and awaits it with :meth:`CaseGate.checked`, so a malformed file
dropped into a case holds up no other request or websocket.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import NamedTuple

from readingroom.server.dicom_jobs import DicomJobs, JobFailed

WITHHELD = ("This case is withheld: it failed the de-identification checks. "
            "Run `readingroom check cases/{slug}`.")


def folder_signature(folder: Path) -> tuple:
    """What changes when any file of the case changes (cheap: one stat per file)."""
    entries = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            entries.append((str(path.relative_to(folder)), stat.st_mtime_ns, stat.st_size))
    return tuple(entries)


def case_problems(folder: Path) -> list[str]:
    """What `readingroom check` finds in the case (without running it): the gate's whole check."""
    from readingroom.case import check_case

    return check_case(folder, execute=False).problems


class Verdict(NamedTuple):
    signature: tuple  # the case's files when checked
    problems: list[str]  # empty: it may be served


NO_SUCH_CASE = Verdict((), ["no such case"])


class CaseGate:
    """Cached :func:`case_problems` verdicts, one entry per case folder, checked through ``jobs``."""

    def __init__(self, cases_dir: Path, jobs: DicomJobs | None = None, log: logging.Logger | None = None):
        self.cases_dir = Path(cases_dir)
        self.jobs = jobs or DicomJobs()
        self.log = log or logging.getLogger(__name__)
        self._verdicts: dict[str, Verdict] = {}
        self._checking: dict[tuple[str, tuple], asyncio.Future] = {}
        self._lock = threading.Lock()

    def verdict(self, slug: str) -> Verdict:
        """The case's verdict for its files now, checking them if they changed; blocks (use off the event loop)."""
        folder, cached, signature = self._lookup(slug)
        if cached is not None:
            return cached
        return self._keep(slug, Verdict(signature, self.jobs.wait(case_problems, folder)))

    async def checked(self, slug: str) -> Verdict:
        """:meth:`verdict` for the event loop: a check runs in a worker, once however many requests wait on it."""
        folder, cached, signature = self._lookup(slug)
        if cached is not None:
            return cached
        key = (slug, signature)
        if key not in self._checking:
            self.log.info("readingroom: checking case %s: its files are new or changed", slug)
            self._checking[key] = asyncio.ensure_future(self.jobs.run(case_problems, folder))
            self._checking[key].add_done_callback(lambda _: self._checking.pop(key, None))
        try:
            problems = await asyncio.shield(self._checking[key])
        except JobFailed as error:  # withheld until its files change again, not re-checked by every request
            self.log.error("readingroom: checking case %s failed: %s", slug, error)
            problems = [f"the check could not finish: {error}; run `readingroom check` on it"]
        return self._keep(slug, Verdict(signature, problems))

    def problems(self, slug: str) -> list[str]:
        """The case's problems (empty when it may be served); unknown slugs are a problem too."""
        return self.verdict(slug).problems

    def passes(self, slug: str) -> bool:
        return not self.problems(slug)

    def _lookup(self, slug: str) -> tuple[Path, Verdict | None, tuple]:
        folder = self.cases_dir / slug
        if not _is_slug(slug) or not (folder / "case.ipynb").is_file():
            return folder, NO_SUCH_CASE, ()
        signature = folder_signature(folder)
        with self._lock:
            cached = self._verdicts.get(slug)
        return folder, cached if cached and cached.signature == signature else None, signature

    def _keep(self, slug: str, verdict: Verdict) -> Verdict:
        with self._lock:
            self._verdicts[slug] = verdict
        return verdict

    def slugs(self) -> list[str]:
        """Every case folder (passing or not), sorted."""
        return sorted(p.parent.name for p in self.cases_dir.glob("*/case.ipynb") if _is_slug(p.parent.name))


def _is_slug(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c == "-" for c in name) and not name.startswith("-")

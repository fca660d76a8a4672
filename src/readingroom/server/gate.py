"""The PHI gate: a case is served only while it passes `readingroom check` (without running it).

The check re-verifies every image: headers, and for ultrasound, screen captures and
flagged images the pixels themselves, read with OCR whatever the Burned In Annotation
flag says (no OCR engine fails the case). That takes seconds per such image, so the
verdict is cached per case and recomputed only when a file in the case folder changes
(size or modification time), e.g. after an educator edits it.
"""

from __future__ import annotations

import threading
from pathlib import Path

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


class CaseGate:
    """Cached `check_case(folder, execute=False)` verdicts, one entry per case folder."""

    def __init__(self, cases_dir: Path):
        self.cases_dir = Path(cases_dir)
        self._verdicts: dict[str, tuple[tuple, list[str]]] = {}
        self._lock = threading.Lock()

    def problems(self, slug: str) -> list[str]:
        """The case's problems (empty when it may be served); unknown slugs are a problem too."""
        folder = self.cases_dir / slug
        if not _is_slug(slug) or not (folder / "case.ipynb").is_file():
            return ["no such case"]
        signature = folder_signature(folder)
        with self._lock:
            cached = self._verdicts.get(slug)
            if cached and cached[0] == signature:
                return cached[1]
        from readingroom.case import check_case

        problems = check_case(folder, execute=False).problems
        with self._lock:
            self._verdicts[slug] = (signature, problems)
        return problems

    def passes(self, slug: str) -> bool:
        return not self.problems(slug)

    def slugs(self) -> list[str]:
        """Every case folder (passing or not), sorted."""
        return sorted(p.parent.name for p in self.cases_dir.glob("*/case.ipynb") if _is_slug(p.parent.name))


def _is_slug(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c == "-" for c in name) and not name.startswith("-")

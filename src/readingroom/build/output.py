"""Writing the site's files: each one atomically, and only when its bytes change."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class SiteWriter:
    """Files under ``root``, named by their path relative to it (which is also their URL path)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, data: bytes) -> str:
        """Write ``data`` to ``relative`` unless it already holds exactly that; returns ``relative``."""
        path = self.root / relative
        if not (path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data):
            self._replace(path, lambda fp: fp.write(data))
        return relative

    def copy(self, relative: str, source: Path) -> str:
        """Copy ``source`` to a content-addressed ``relative`` (its name is its digest: present is current)."""
        path = self.root / relative
        if not path.is_file():
            with source.open("rb") as read:
                self._replace(path, lambda fp: shutil.copyfileobj(read, fp))
        return relative

    def exists(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def _replace(self, path: Path, fill) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fp:
                fill(fp)
            os.chmod(tmp, 0o644)  # a web server reads them as another user
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

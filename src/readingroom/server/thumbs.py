"""Key-image thumbnails for catalog cards, rendered through the viewer's own pipeline.

The representative frame is the middle frame of the case's largest series; the
thumbnail is a small JPEG kept in memory (one per case, replaced when the case
changes), so no file under ``cases/`` is ever sent as it is.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

THUMB_SIZE = 320


def render_thumbnail(images: Path, size: int = THUMB_SIZE, key_images: frozenset[str] = frozenset()) -> bytes:
    """JPEG bytes of the case's key image, at most ``size`` pixels on its longer side: the first of
    ``key_images`` (SOP Instance UIDs) found, else the middle frame of the largest series."""
    from PIL import Image

    from readingroom.dicom import open_path, render_frame

    collection = open_path(images)
    marked = [f for s in collection.series for f in s.frames if str(f.instance.header.get("SOPInstanceUID", "")) in key_images]
    series = max(collection.series, key=lambda s: s.frame_count)
    pixels = render_frame(marked[0] if marked else series.frames[(series.frame_count - 1) // 2])
    picture = Image.fromarray(pixels)
    picture.thumbnail((size, size))
    buffer = io.BytesIO()
    picture.convert("RGB" if picture.mode not in ("L", "RGB") else picture.mode).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


class ThumbnailCache:
    """One thumbnail per case and version (the case's file signature); bounded by the number of cases."""

    def __init__(self):
        self._store: dict[str, tuple[str, bytes]] = {}
        self._lock = threading.Lock()

    def get(self, slug: str, version: str, images: Path) -> bytes:
        with self._lock:
            cached = self._store.get(slug)
        if cached and cached[0] == version:
            return cached[1]
        data = render_thumbnail(images)
        with self._lock:
            self._store[slug] = (version, data)
        return data

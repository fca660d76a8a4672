"""Key-image thumbnails for catalog cards, rendered through the viewer's own pipeline.

The representative frame is the middle frame of the case's largest series; the
thumbnail is a small JPEG kept in memory (one per case, replaced when the case
changes), so no file under ``cases/`` is ever sent as it is.
"""

from __future__ import annotations

import io
from pathlib import Path

from readingroom.server.dicom_jobs import DicomJobs

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
    """One thumbnail per case and version (the case's file signature); bounded by the number of cases.

    Thumbnails are rendered by ``jobs``, in a worker process: decoding is no work for the event loop.
    """

    def __init__(self, jobs: DicomJobs):
        self.jobs = jobs
        self._store: dict[str, tuple[str, bytes]] = {}

    async def get(self, slug: str, version: str, images: Path) -> bytes:
        cached = self._store.get(slug)
        if cached and cached[0] == version:
            return cached[1]
        data = await self.jobs.run(render_thumbnail, images)
        self._store[slug] = (version, data)
        return data

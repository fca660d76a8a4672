"""Modules saved for offline use, the same for a static site and for ``readingroom serve``.

One service worker (``templates/sw.js``), one "Save for offline" script (``templates/offline.js``)
and one outbox for records made offline (``templates/outbox.js``) serve both hosts; each host
only says what a module's copy holds (:func:`listing`: every file's URL and size, relative to
the site's root), the static site as a file it writes, the server from a handler.
"""

from __future__ import annotations

from pathlib import Path

OFFLINE_TEMPLATES = Path(__file__).parent / "templates"
FRAMES = "readingroom/frames"
WORKER = "sw.js"  # at the site's root in both hosts: a service worker controls only the pages below its own URL


def listing(files: dict[str, int], aliases: dict[str, str] | None = None) -> dict:
    """What "Save for offline" stores: ``files`` (URL: bytes), and ``aliases`` (URL: the URL it redirects to)."""
    entries = [{"url": url, "bytes": size} for url, size in files.items()]
    return {"files": entries, "bytes": sum(files.values()), "aliases": aliases or {}}


def frame_blobs(value) -> set[tuple[str, str]]:
    """Every (digest, kind) a manifest in ``value`` (widget entries, stages) names."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        if isinstance(value.get("lossless"), list) and isinstance(value.get("preview"), list):  # a manifest
            found.update((d, "bin") for d in value["lossless"])
            found.update((d, "jpg") for d in value["preview"])
            if value.get("palette"):
                found.add((value["palette"], "bin"))
        for item in value.values():
            found |= frame_blobs(item)
    elif isinstance(value, list):
        for item in value:
            found |= frame_blobs(item)
    return found

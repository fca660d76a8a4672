"""A content-addressed store: blobs named by their digest, manifests named by series key.

Layout under the cache root::

    blobs/ab/<digest>.bin    lossless frames and palettes (deflate streams)
    blobs/ab/<digest>.jpg    preview frames
    series/<key>.json        one manifest per encoded series

A digest is the BLAKE2b-128 hex of the blob's bytes, so a blob never changes
once written and may be served with immutable cache headers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

DIGEST_PATTERN = r"[0-9a-f]{32}"
BLOB_KINDS = {"bin": "application/octet-stream", "jpg": "image/jpeg"}
_DIGEST_RE = re.compile(DIGEST_PATTERN)


def default_cache_dir() -> Path:
    """``$READINGROOM_CACHE`` if set, else ``~/.cache/readingroom/frames``."""
    configured = os.environ.get("READINGROOM_CACHE")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "readingroom" / "frames"


def digest_of(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class FrameCache:
    """Blobs and manifests under ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def __repr__(self) -> str:
        return f"FrameCache({str(self.root)!r})"

    def blob_path(self, digest: str, kind: str) -> Path | None:
        """Where blob ``digest`` of ``kind`` lives; None for anything that is not a digest."""
        if kind not in BLOB_KINDS or not _DIGEST_RE.fullmatch(digest):
            return None
        return self.root / "blobs" / digest[:2] / f"{digest}.{kind}"

    def put(self, data: bytes, kind: str) -> str:
        """Store ``data``; returns its digest. Writing is atomic and idempotent."""
        digest = digest_of(data)
        path = self.blob_path(digest, kind)
        if not path.exists():
            _atomic_write(path, data)
        return digest

    def get(self, digest: str, kind: str) -> bytes | None:
        path = self.blob_path(digest, kind)
        if path is None or not path.is_file():
            return None
        return path.read_bytes()

    def manifest_path(self, key: str) -> Path:
        return self.root / "series" / f"{key}.json"

    def load_manifest(self, key: str) -> dict | None:
        path = self.manifest_path(key)
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        blobs = [(d, "bin") for d in manifest.get("lossless", [])] + [(d, "jpg") for d in manifest.get("preview", [])]
        if manifest.get("palette"):
            blobs.append((manifest["palette"], "bin"))
        if not all(self.blob_path(d, k) is not None and self.blob_path(d, k).is_file() for d, k in blobs):
            return None  # a blob was cleaned away: encode again
        return manifest

    def save_manifest(self, key: str, manifest: dict) -> None:
        _atomic_write(self.manifest_path(key), json.dumps(manifest, separators=(",", ":")).encode())


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

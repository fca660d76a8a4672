"""Encode a :class:`~readingroom.dicom.Series` once into the cache and describe it.

The manifest is small JSON a viewer needs to show the series without asking the
kernel again: size, sample type, rescale per frame, geometry, windows and
presets, the digest of every frame's lossless and preview blob, and the
delivery order (the starting frame, then outwards).
"""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from readingroom.dicom import Series, decode_frame, default_window, header_windows, presets_for, render_stored, rescale
from readingroom.dicom.geometry import slice_positions
from readingroom.dicom.processing import to_display_color
from readingroom.frames.cache import FrameCache
from readingroom.frames.codec import LOSSLESS_ENCODING, encode_lossless

ENCODER_VERSION = 4  # 2: manifest carries palette_size; 3: slice positions; 4: previews at quality 60
PREVIEW_SIDE = 256
# A preview is seen only until its lossless frame arrives: 60 keeps a 256 px CT slice readable and is about
# 17% smaller than 70, which is most of what a 300-slice stack needs to be scrollable within a minute at 384 kbit/s.
PREVIEW_QUALITY = 60


def series_key(series: Series) -> str:
    """Identity of a series' pixels: UIDs, frame indices and where each file is (size, mtime)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"v{ENCODER_VERSION}|{series.uid}|{series.frame_count}".encode())
    for frame in series.frames:
        source = frame.instance.source
        stat = ""
        if source.local_path is not None:
            st = source.local_path.stat()
            stat = f"{st.st_size}:{st.st_mtime_ns}"
        uid = frame.instance.header.get("SOPInstanceUID", "")
        h.update(f"|{uid}:{frame.index}:{source.path}:{source.member}:{stat}".encode())
    return h.hexdigest()


def default_start(series: Series) -> int:
    """The middle of a cross-sectional stack; the first frame of a clip."""
    return series.frame_count // 2 if series.instance_count > 1 else 0


def delivery_order(count: int, start: int) -> list[int]:
    """``start``, then alternately one further on and one further back."""
    order = [start]
    for step in range(1, count):
        for k in (start + step, start - step):
            if 0 <= k < count:
                order.append(k)
    return order


def encode_series(series: Series, cache: FrameCache | None = None, workers: int = 2) -> dict:
    """Encode ``series`` into ``cache`` (unless already there) and return its manifest."""
    cache = cache or FrameCache()
    key = series_key(series)
    manifest = cache.load_manifest(key)
    if manifest is not None:
        return manifest
    first = series.frames[0]
    window = default_window(first)
    kind = "rgb" if int(first.dataset.get("SamplesPerPixel", 1)) > 1 else (
        "palette" if series.photometric == "PALETTE COLOR" else "grey")

    def encode_one(k: int):
        frame = series.frames[k]
        stored = decode_frame(frame)
        lossless = cache.put(encode_lossless(stored), "bin")
        preview = cache.put(_preview_jpeg(render_stored(stored, frame, None if kind != "grey" else window)), "jpg")
        return stored.dtype, lossless, preview, rescale(frame.dataset)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # zlib and decoders release the GIL
        results = list(pool.map(encode_one, range(series.frame_count)))
    dtypes = {str(r[0]) for r in results}
    if len(dtypes) != 1:
        raise ValueError(f"series {series.uid}: frames decode to different sample types {sorted(dtypes)}")

    spacing = series.pixel_spacing
    windows = [_window_json(w) for w in header_windows(first.dataset)] or [_window_json(window)]
    start = default_start(series)
    manifest = {
        "version": ENCODER_VERSION,
        "key": key,
        "uid": series.uid,
        "number": series.number,
        "modality": series.modality,
        "description": series.description,
        "body_part": series.body_part,
        "rows": series.rows,
        "columns": series.columns,
        "samples": 3 if kind == "rgb" else 1,
        "kind": kind,
        "dtype": dtypes.pop(),
        "photometric": series.photometric,
        "invert": series.photometric == "MONOCHROME1"
        or str(first.dataset.get("PresentationLUTShape", "")).upper() == "INVERSE",
        "count": series.frame_count,
        "rescale": [list(r[3]) for r in results],
        "units": "HU" if series.modality == "CT" else "",
        "pixel_spacing": [spacing.row, spacing.column] if spacing else None,
        "detector_plane": bool(spacing and spacing.detector_plane),
        "slice_spacing": series.slice_spacing,
        "positions": slice_positions(series.frames),  # mm along the slice normal, for linked scrolling
        "regular": series.regular,
        "edge_labels": series.edge_labels,
        "frame_rate": _frame_rate(first.dataset),
        "windows": windows,
        "presets": [
            {"name": p.name, "label": p.label, "center": p.center, "width": p.width, "key": str(i + 1)}
            for i, p in enumerate(presets_for(series.modality)[:9])
        ],
        "palette": _palette_blob(series, cache) if kind == "palette" else None,
        "palette_size": _palette_size(series) if kind == "palette" else 0,
        "lossless": [r[1] for r in results],
        "preview": [r[2] for r in results],
        "encoding": {"lossless": LOSSLESS_ENCODING, "preview": f"jpeg, longest side <= {PREVIEW_SIDE}"},
        "start": start,
        "order": delivery_order(series.frame_count, start),
    }
    cache.save_manifest(key, manifest)
    return manifest


def _window_json(window) -> dict:
    return {"name": window.name, "center": window.center, "width": window.width, "function": window.function}


def _frame_rate(ds) -> float | None:
    for keyword in ("RecommendedDisplayFrameRate", "CineRate"):
        value = ds.get(keyword)
        if value not in (None, "") and float(value) > 0:
            return float(value)
    frame_time = ds.get("FrameTime")
    if frame_time not in (None, "") and float(frame_time) > 0:
        return round(1000.0 / float(frame_time), 3)
    return None


def _preview_jpeg(display: np.ndarray) -> bytes:
    image = Image.fromarray(display)
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PREVIEW_QUALITY, optimize=True)
    return out.getvalue()


def _palette_blob(series: Series, cache: FrameCache) -> str:
    """Every possible stored index through the palette, as uint8 RGB (lossless tier encoding)."""
    ds = series.first
    size = _palette_size(series)
    indices = np.arange(size, dtype=np.uint16 if size > 256 else np.uint8)
    rgb = to_display_color(indices.reshape(1, -1), ds)  # (1, N, 3) uint8
    return cache.put(encode_lossless(np.ascontiguousarray(rgb)), "bin")


def _palette_size(series: Series) -> int:
    """Entries of the palette table: one per possible stored index."""
    ds = series.first
    bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 8)
    return 2 ** min(bits, 16)

"""``Viewer``: an interactive DICOM viewer whose state is a handful of small traits.

Pixels never travel in the widget state: the selected series is encoded once
into the frame cache (:mod:`readingroom.frames`) and the browser fetches the
frames by digest from our HTTP handler, or, where no handler is reachable,
asks the kernel for the same blobs over the comm as binary buffers.
"""

from __future__ import annotations

import base64
import io
import math
import os
import weakref
from pathlib import Path

import anywidget
import numpy as np
import traitlets as t
from ipywidgets import widget_serialization
from PIL import Image, ImageDraw

from readingroom.dicom import Collection, Series, decode_frame, open_path, render_frame, render_stored
from readingroom.dicom.presets import find_preset
from readingroom.errors import InputError
from readingroom.frames import FrameCache, encode_series
from readingroom.widgets.assets import loader_source, module_sources
from readingroom.widgets.view_state import ViewState

ANNOTATION_KINDS = ("arrow", "ellipse", "text", "length")
_MAX_BATCH = 16  # blobs per comm reply
_LIVE: weakref.WeakValueDictionary[str, Viewer] = weakref.WeakValueDictionary()  # by model id


def live_viewers() -> dict[str, Viewer]:
    """The viewers this kernel holds, by widget model id."""
    return dict(_LIVE)


class Viewer(ViewState, anywidget.AnyWidget):
    """View DICOM series in the browser.

    Parameters
    ----------
    source
        A path (file, folder, zip, DICOMDIR), a :class:`~readingroom.dicom.Collection`,
        a :class:`~readingroom.dicom.Series` or a list of series.
    series, frame, window, zoom, pan, plane, plane_index
        The initial view; all are also attributes kept in sync with the browser
        (declared once, in :class:`~readingroom.widgets.view_state.ViewState`).
    cache
        Where frames are encoded (default: ``$READINGROOM_CACHE`` or ~/.cache/readingroom/frames).

    In the browser, without kernel round trips: scroll (wheel, arrow keys, slider,
    touch drag), window/level (drag, stepper buttons, Shift+arrows, presets on keys 1-9,
    0 for the image's own, menu), zoom (ctrl-wheel, pinch, +/-, buttons) and pan (drag,
    arrows with the pan tool, buttons), fit (f), reset (r), invert (i), cine (space) with
    a frame rate, length (m) and ellipse ROI (e) in mm and modality units by drag, two
    clicks or a keyboard crosshair, value under the cursor, orientation markers, scale
    bar, overlay (o), annotations (a), coronal (c) / sagittal (s) reformats of regular
    volumes and back (x). The root element carries ``data-rr-viewer`` and ``data-series``,
    ``data-frame``, ``data-frames``, ``data-plane``, ``data-window-center``,
    ``data-window-width``, ``data-invert``, ``data-loaded`` (frames viewable) and
    ``data-lossless`` (frames at full quality), for tests and assistive tools; hosts
    listen to the model instead.

    Examples
    --------
    >>> viewer = Viewer("cases/chest-ct/images", window="lung")   # doctest: +SKIP
    >>> viewer.frame = 120; viewer.annotate("arrow", points=[(200, 180), (240, 220)], group="finding")  # doctest: +SKIP
    """

    _esm = t.Unicode(loader_source("viewer.js")).tag(sync=True)

    _manifest = t.Dict().tag(sync=True)
    _series_list = t.List(t.Dict()).tag(sync=True)

    def __init__(self, source, *, series: int = 0, frame: int | None = None, window=None,
                 cache: FrameCache | str | os.PathLike | None = None, **kwargs) -> None:
        self._all_series = _as_series_list(source)
        self._cache = cache if isinstance(cache, FrameCache) else FrameCache(cache)
        self._manifests: dict[int, dict] = {}
        super().__init__(**kwargs)
        self._series_list = [
            {"uid": s.uid, "number": s.number, "modality": s.modality, "description": s.description, "count": s.frame_count}
            for s in self._all_series
        ]
        self.series = series
        self._show_series(series, frame, window)
        self.on_msg(self._on_custom_message)
        _LIVE[self.model_id] = self

    def all_manifests(self) -> list[dict]:
        """Every series encoded, in order: a page with no kernel switches series with these."""
        for k in range(len(self._all_series)):
            if k not in self._manifests:
                self._manifests[k] = encode_series(self._all_series[k], self._cache)
        return [self._manifests[k] for k in range(len(self._all_series))]

    # ---- series and view ----
    @property
    def series_list(self) -> list[Series]:
        return list(self._all_series)

    @property
    def current_series(self) -> Series:
        return self._all_series[self.series]

    @t.validate("series")
    def _check_series(self, proposal):
        k = proposal["value"]
        if not 0 <= k < len(self._all_series):
            raise InputError(f"series {k} does not exist; this viewer has {len(self._all_series)} (0-{len(self._all_series) - 1})")
        return k

    @t.observe("series")
    def _series_changed(self, change):
        if self._manifest and change["new"] != change["old"]:
            self._show_series(change["new"], None, None)

    def _show_series(self, k: int, frame: int | None, window) -> None:
        if k not in self._manifests:
            self._manifests[k] = encode_series(self._all_series[k], self._cache)
        manifest = self._manifests[k]
        with self.hold_sync():
            self._manifest = manifest
            self.frame = manifest["start"] if frame is None else frame
            first = manifest["windows"][0]
            self.window = window if window is not None else [float(first["center"]), float(first["width"])]

    @t.validate("frame")
    def _check_frame(self, proposal):
        k = proposal["value"]
        count = (self._manifest or {}).get("count")
        if count is not None and not 0 <= k < count:
            raise InputError(f"frame {k} is outside this series' frames 0-{count - 1}")
        return k

    @t.validate("window")
    def _check_window(self, proposal):
        value = proposal["value"]
        manifest = self._manifest or {}
        if isinstance(value, str):
            preset = find_preset(value, manifest.get("modality"))
            return [float(preset.center), float(preset.width)]
        try:
            center, width = (float(v) for v in value)
        except (TypeError, ValueError):
            raise InputError(f"window must be a preset name or (center, width), got {value!r}") from None
        if not width >= 1:
            raise InputError(f"window width must be >= 1, got {width}")
        return [center, width]

    # ---- annotations ----
    @t.validate("annotations")
    def _check_annotations(self, proposal):
        return [_annotation(a) for a in proposal["value"]]

    def annotate(self, kind: str = "arrow", *, frame: int | None = None, points=(), text: str = "",
                 group: str = "", color: str | None = None) -> dict:
        """Pin an annotation to ``frame`` (None: every frame) at image-pixel ``points``.

        arrow: [tail, head]; ellipse: two opposite corners of its box; text: [anchor].
        """
        item = _annotation({"kind": kind, "frame": frame, "points": points, "text": text, "group": group, "color": color})
        self.annotations = [*self.annotations, item]
        return item

    def hide_group(self, group: str) -> None:
        if group not in self.hidden_groups:
            self.hidden_groups = [*self.hidden_groups, group]

    def show_group(self, group: str) -> None:
        self.hidden_groups = [g for g in self.hidden_groups if g != group]

    # ---- static output ----
    def to_png(self, max_side: int = 512) -> bytes:
        """PNG of the current view (frame or reformatted slice, window, inversion, visible annotations)."""
        series = self.current_series
        window = tuple(self.window) if not series.is_color else None
        axial = self.plane == "axial"
        display = render_frame(series.frames[self.frame], window) if axial else self._reformatted(series, window)
        if self._manifest.get("invert") != self.invert and display.ndim == 2:
            display = 255 - display
        image = Image.fromarray(display).convert("RGB")
        draw = ImageDraw.Draw(image)
        if self.show_annotations and axial:  # annotations are pinned to acquired frames, as in the browser
            for a in self.annotations:
                if a["group"] in self.hidden_groups or a["frame"] not in (None, self.frame):
                    continue
                pts = [tuple(p) for p in a["points"]]
                if a["kind"] in ("arrow", "length") and len(pts) >= 2:
                    draw.line(pts[:2], fill=(255, 215, 94), width=2)
                if a["kind"] == "arrow" and len(pts) >= 2:
                    draw.polygon(_arrow_head(*pts[:2], size=max(8.0, max(image.size) / 40)), fill=(255, 215, 94))
                elif a["kind"] == "ellipse" and len(pts) >= 2:
                    (x0, y0), (x1, y1) = pts[:2]
                    draw.ellipse([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], outline=(95, 211, 95), width=2)
                if a["text"] and pts:
                    draw.text(pts[-1], a["text"], fill=(255, 215, 94))
        image.thumbnail((max_side, max_side))
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue()

    def _reformatted(self, series: Series, window) -> np.ndarray:
        """The coronal or sagittal slice the browser shows (viewer_reformat.js): last frame at the top, stretched
        to the slice spacing so anatomy keeps its proportions."""
        stack = np.stack([decode_frame(frame) for frame in series.frames])[::-1]  # (slices, rows, columns), head up
        spacing = series.pixel_spacing
        if self.plane == "coronal":
            k = self.plane_index if self.plane_index is not None else series.rows // 2
            values, across = stack[:, min(k, series.rows - 1), :], spacing.column if spacing else None
        else:
            k = self.plane_index if self.plane_index is not None else series.columns // 2
            values, across = stack[:, :, min(k, series.columns - 1)], spacing.row if spacing else None
        display = render_stored(values, series.frames[0], window)
        if across and series.slice_spacing:
            height = max(1, round(display.shape[0] * series.slice_spacing / across))
            display = np.asarray(Image.fromarray(display).resize((display.shape[1], height), Image.BILINEAR))
        return display

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["image/png"] = base64.b64encode(self.to_png()).decode("ascii")
        return bundle

    # ---- comm fallback: modules and frames as binary buffers ----
    def _on_custom_message(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "modules":
            self.send({"type": "modules", "sources": module_sources()})
        elif content.get("type") == "frames":
            self._send_frames(content.get("want") or [])

    def _send_frames(self, want) -> None:
        allowed = self._allowed_blobs()
        items, buffers = [], []
        for entry in list(want)[:_MAX_BATCH]:
            if not (isinstance(entry, (list, tuple)) and len(entry) == 2):
                continue
            digest, kind = str(entry[0]), str(entry[1])
            data = self._cache.get(digest, kind) if (digest, kind) in allowed else None
            items.append([digest, kind])
            buffers.append(data or b"")
        self.send({"type": "frames", "items": items}, buffers)

    def _allowed_blobs(self) -> set[tuple[str, str]]:
        m = self._manifest
        allowed = {(d, "bin") for d in m.get("lossless", [])} | {(d, "jpg") for d in m.get("preview", [])}
        if m.get("palette"):
            allowed.add((m["palette"], "bin"))
        return allowed


class SliceLink(anywidget.AnyWidget):
    """Keeps linked viewers at the same anatomy while any one scrolls, in the browser.

    Each follows the distance in mm the scrolled one moved along its slice normal, from where
    each stood when linked: set the prior and the current study at the same level first, then
    scroll either. Made by :func:`side_by_side`; it shows nothing itself.
    """

    _esm = t.Unicode(loader_source("link.js")).tag(sync=True)
    viewers = t.List(t.Instance(Viewer)).tag(sync=True, **widget_serialization)


def side_by_side(*viewers: Viewer, link: bool = True):
    """Viewers in a row (prior vs current, pre vs post contrast); ``link`` scrolls them together.

    Linking happens in the browser (no kernel round trip): by slice position where every
    series has one (slice counts and thicknesses may differ), else by frame index, which
    needs series with the same number of frames.
    """
    import ipywidgets

    if len(viewers) < 2:
        raise InputError(f"side_by_side needs at least two viewers, got {len(viewers)}")
    children: list = list(viewers)
    if link and all(v._manifest.get("positions") for v in viewers):
        children.append(SliceLink(viewers=list(viewers)))
    elif link:
        counts = {v._manifest["count"] for v in viewers}
        if len(counts) != 1:
            raise InputError(f"linked scrolling needs slice positions or the same number of frames, got "
                             f"{sorted(counts)} frames; pass link=False")
        for a, b in zip(viewers, viewers[1:]):
            ipywidgets.jslink((a, "frame"), (b, "frame"))
    return ipywidgets.HBox(children, layout=ipywidgets.Layout(grid_gap="8px", align_items="flex-start"))


def _arrow_head(tail, head, size: float) -> list[tuple[float, float]]:
    """The triangle the browser draws at an arrow's head: two sides of ``size`` at 0.4 rad from the shaft."""
    angle = math.atan2(head[1] - tail[1], head[0] - tail[0])
    return [tuple(head), *((head[0] - size * math.cos(angle + turn), head[1] - size * math.sin(angle + turn)) for turn in (-0.4, 0.4))]


def _as_series_list(source) -> list[Series]:
    if isinstance(source, Series):
        found = [source]
    elif isinstance(source, Collection):
        found = source.series
    elif isinstance(source, (str, os.PathLike)):
        found = open_path(Path(source)).series
    elif isinstance(source, (list, tuple)) and all(isinstance(s, Series) for s in source):
        found = list(source)
    else:
        raise InputError(f"Viewer source must be a path, Collection, Series or list of Series, got {type(source).__name__}")
    if not found:
        raise InputError(f"{source}: no displayable image series found")
    return found


def _annotation(a) -> dict:
    if not isinstance(a, dict):
        raise InputError(f"an annotation is a dict, got {type(a).__name__}")
    kind = a.get("kind")
    if kind not in ANNOTATION_KINDS:
        raise InputError(f"annotation kind must be one of {', '.join(ANNOTATION_KINDS)}, got {kind!r}")
    try:
        points = [[float(x), float(y)] for x, y in (a.get("points") or [])]
    except (TypeError, ValueError):
        raise InputError(f"annotation points must be (x, y) pairs in image pixels, got {a.get('points')!r}") from None
    needed = 1 if kind == "text" else 2
    if len(points) < needed:
        raise InputError(f"a {kind} annotation needs {needed} point(s), got {len(points)}")
    frame = a.get("frame")
    out = {"kind": kind, "frame": None if frame is None else int(frame), "points": points,
           "text": str(a.get("text") or ""), "group": str(a.get("group") or "")}
    if a.get("color"):
        out["color"] = str(a["color"])
    return out


__all__ = ["SliceLink", "Viewer", "side_by_side"]

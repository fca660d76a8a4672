"""Viewer view state in Python: what a notebook author sets is what the browser is told."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from readingroom.dicom import Collection, open_path
from readingroom.dicom.synthetic import write_ct_phantom
from readingroom.errors import InputError
from readingroom.frames import FrameCache
from readingroom.widgets import Viewer


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer")
    write_ct_phantom(root / "ct", slices=8, size=64, pixel_spacing=(0.5, 0.5), slice_spacing=2.0)
    return root


@pytest.fixture
def viewer(phantom):
    return Viewer(phantom / "ct", cache=phantom / "cache")


def test_opens_on_the_middle_slice_with_the_header_window(viewer):
    assert viewer.frame == 4
    assert viewer.window == [40.0, 80.0]
    assert viewer._manifest["count"] == 8 and viewer._series_list[0]["count"] == 8


def test_window_accepts_presets_and_pairs_and_rejects_nonsense(viewer):
    viewer.window = "lung"
    assert viewer.window == [-600.0, 1500.0]
    viewer.window = (50, 350)
    assert viewer.window == [50.0, 350.0]
    with pytest.raises(InputError, match="unknown window preset 'lungs'"):
        viewer.window = "lungs"
    with pytest.raises(InputError, match="window width must be >= 1, got 0.0"):
        viewer.window = (40, 0)


def test_frame_outside_the_series_is_refused(viewer):
    with pytest.raises(InputError, match="frame 8 is outside this series' frames 0-7"):
        viewer.frame = 8


def test_constructor_sets_the_initial_view(phantom):
    v = Viewer(open_path(phantom / "ct"), frame=2, window="bone", zoom=2.0, invert=True, cache=phantom / "cache")
    assert (v.frame, v.window, v.zoom, v.invert) == (2, [480.0, 2500.0], 2.0, True)


def test_annotate_pins_to_frame_and_group_and_groups_hide(viewer):
    viewer.annotate("arrow", frame=3, points=[(10, 10), (30, 32)], group="finding")
    viewer.annotate("text", points=[(5, 5)], text="Note")
    assert viewer.annotations == [
        {"kind": "arrow", "frame": 3, "points": [[10.0, 10.0], [30.0, 32.0]], "text": "", "group": "finding"},
        {"kind": "text", "frame": None, "points": [[5.0, 5.0]], "text": "Note", "group": ""},
    ]
    viewer.hide_group("finding")
    assert viewer.hidden_groups == ["finding"]
    viewer.show_group("finding")
    assert viewer.hidden_groups == []
    with pytest.raises(InputError, match="a ellipse annotation needs 2 point"):
        viewer.annotate("ellipse", points=[(1, 1)])
    with pytest.raises(InputError, match="annotation kind must be one of"):
        viewer.annotate("circle", points=[(1, 1), (2, 2)])


def test_static_png_shows_the_current_frame_and_window(viewer):
    bundle = viewer._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["image/png"]))).convert("L"))
    assert image.shape == (64, 64)
    assert image[1, 1] == 0 and image[32, 2] == 0  # air below the 40/80 window
    viewer.invert = True
    inverted = np.asarray(Image.open(io.BytesIO(viewer.to_png())).convert("L"))
    assert inverted[1, 1] == 255


def test_static_png_draws_arrows_with_heads_as_the_browser_does(viewer):
    """Followers see later stages as these pictures: an arrow must point, not be a bare line."""
    viewer.annotate("arrow", points=[(10, 32), (50, 32)])
    rgb = np.asarray(Image.open(io.BytesIO(viewer.to_png())).convert("RGB")).astype(int)
    yellow = lambda x, y: rgb[y, x, 0] > 200 and rgb[y, x, 1] > 150 and rgb[y, x, 2] < 150  # noqa: E731
    assert yellow(30, 32)  # the shaft
    assert yellow(45, 34) and yellow(45, 30)  # the head's two sides, either side of the shaft near its tip
    assert not yellow(20, 34) and not yellow(20, 30)  # beside the shaft far from the tip: no head there


def test_comm_fallback_sends_only_this_series_blobs(viewer, phantom):
    sent = []
    viewer.send = lambda content, buffers=None: sent.append((content, buffers))
    digest = viewer._manifest["lossless"][4]
    viewer._on_custom_message(viewer, {"type": "frames", "want": [[digest, "bin"], ["0" * 32, "bin"]]}, [])
    content, buffers = sent[-1]
    assert content["items"] == [[digest, "bin"], ["0" * 32, "bin"]]
    assert buffers[0] == FrameCache(phantom / "cache").get(digest, "bin") and len(buffers[0]) > 100
    assert buffers[1] == b""  # unknown digest: nothing
    viewer._on_custom_message(viewer, {"type": "modules"}, [])
    sources = sent[-1][0]["sources"]
    # what a widget imports, the generated state declaration among them; never a conference page's code
    assert {"core.js", "viewer.js", "view_state.js", "question.js", "link.js"} <= set(sources)
    assert not {"presenter.js", "follower.js", "conference.js", "case_page.js", "loader.js"} & set(sources)


def test_widget_state_carries_a_small_loader_not_the_viewer_code(viewer):
    assert len(viewer._esm) < 4000
    assert "readingroom/static/" in viewer._esm


def test_source_without_images_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no displayable image series"):
        Viewer(Collection(studies=[], problems=[]), cache=tmp_path / "cache")
    with pytest.raises(InputError, match="must be a path, Collection, Series or list of Series, got int"):
        Viewer(3, cache=tmp_path / "cache")


def test_side_by_side_links_by_slice_position_else_only_equal_lengths(phantom, tmp_path):
    import dataclasses

    from readingroom.widgets import side_by_side
    from readingroom.widgets.viewer import SliceLink

    a = Viewer(phantom / "ct", cache=phantom / "cache")
    assert a._manifest["positions"] == [float(2 * k) for k in range(8)]  # the phantom's 2 mm slices, in mm
    write_ct_phantom(tmp_path / "short", slices=3, size=32)
    short = Viewer(tmp_path / "short", cache=tmp_path / "cache")  # a prior: fewer slices
    row = side_by_side(a, short)
    *shown, link = row.children
    assert shown == [a, short] and isinstance(link, SliceLink) and link.viewers == [a, short]
    assert list(side_by_side(a, short, link=False).children) == [a, short]
    # Without positions (e.g. projection radiographs) only series of one length can link, by index.
    flat = [dataclasses.replace(s, frames=[dataclasses.replace(f, position=None) for f in s.frames])
            for s in (a.current_series, short.current_series)]
    c, d = Viewer(flat[0], cache=tmp_path / "flat"), Viewer(flat[1], cache=tmp_path / "flat")
    assert c._manifest["positions"] is None
    with pytest.raises(InputError, match=r"slice positions or the same number of frames, got \[3, 8\] frames"):
        side_by_side(c, d)
    same_length = side_by_side(c, Viewer(flat[0], cache=tmp_path / "flat"))
    assert len(same_length.children) == 2  # linked by frame index in the browser (jslink), no SliceLink


def test_static_png_shows_the_reformat_the_browser_shows(viewer):
    """A coronal view's picture is the coronal slice, head up, at the slice spacing's proportions, not the axial frame."""
    def rows_of(frame: int) -> np.ndarray:
        viewer.plane, viewer.frame = "axial", frame
        return np.asarray(Image.open(io.BytesIO(viewer.to_png())).convert("L")).astype(int)[32]

    top, bottom = rows_of(7), rows_of(0)
    viewer.plane, viewer.plane_index = "coronal", 32
    coronal = np.asarray(Image.open(io.BytesIO(viewer.to_png())).convert("L")).astype(int)
    assert coronal.shape == (32, 64)  # 8 slices of 2 mm shown over 0.5 mm pixels
    assert np.abs(coronal[0] - top).mean() < np.abs(coronal[0] - bottom).mean()  # the last slice at the top
    assert np.abs(coronal[-1] - bottom).mean() < np.abs(coronal[-1] - top).mean()
    viewer.plane, viewer.plane_index = "sagittal", 32
    assert np.asarray(Image.open(io.BytesIO(viewer.to_png()))).shape[:2] == (32, 64)

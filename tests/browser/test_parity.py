"""One set of test vectors through the Python display pipeline and, in Chromium, through the viewer's JavaScript.

The browser paints what the kernel's pictures (Viewer.to_png, a later stage's image) show, so the two
must agree to the grey level: same window formulas, same edge cases (width 1), same rounding
(halves to even, as numpy's rint).
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from readingroom.dicom import open_path, render_frame
from readingroom.dicom.decode import decode_frame
from readingroom.dicom.processing import Window, apply_modality, apply_presentation, apply_window

pytestmark = pytest.mark.browser

# (name, stored values, dtype, slope, intercept, photometric, center, width, function)
VECTORS = [
    ("linear width 1: a step at c - 0.5", range(95, 106), "int16", 1, 0, "MONOCHROME2", 100.5, 1.0, "LINEAR"),
    ("linear width 1 at a whole centre", range(95, 106), "int16", 1, 0, "MONOCHROME2", 100.0, 1.0, "LINEAR"),
    ("linear width 2", range(-4, 5), "int16", 1, 0, "MONOCHROME2", 0.0, 2.0, "LINEAR"),
    ("linear, every other value a half", range(-300, 301), "int16", 1, 0, "MONOCHROME2", 0.5, 511.0, "LINEAR"),
    ("linear exact, halves", range(-300, 301), "int16", 1, 0, "MONOCHROME2", 0.0, 510.0, "LINEAR_EXACT"),
    ("linear exact, narrower than a value", range(-3, 4), "int16", 1, 0, "MONOCHROME2", 0.0, 0.5, "LINEAR_EXACT"),
    ("sigmoid", range(-1000, 1001, 7), "int16", 1, 0, "MONOCHROME2", 40.0, 400.0, "SIGMOID"),
    ("sigmoid, narrow", range(-20, 21), "int16", 1, 0, "MONOCHROME2", 0.0, 1.0, "SIGMOID"),
    ("CT stored values through the rescale", range(0, 4096, 3), "uint16", 1, -1024, "MONOCHROME2", 40.0, 80.0, "LINEAR"),
    ("MONOCHROME1 is inverted", range(0, 4096, 5), "uint16", 1, 0, "MONOCHROME1", 2047.5, 4096.0, "LINEAR"),
    ("MONOCHROME1, width 1", range(0, 8), "uint16", 1, 0, "MONOCHROME1", 4.0, 1.0, "LINEAR"),
]

PAINT = """async ([version, vectors]) => {
  const core = await import(`/readingroom/static/${version}/core.js`);
  const TYPED = { int16: Int16Array, uint16: Uint16Array };
  return vectors.map(({ values, dtype, slope, intercept, invert, center, width, fn }) => {
    const stored = TYPED[dtype].from(values);
    const image = new ImageData(stored.length, 1);
    const m = { kind: "grey", rows: 1, columns: stored.length };
    const view = { center, width, fn, invert, slope, intercept };
    let lo = Infinity, hi = -Infinity;
    for (const v of stored) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    core.paintValues(image, stored, [lo, hi], m, view, null);  // through the window table, as frames are painted
    const table = Array.from({ length: stored.length }, (_, i) => image.data[4 * i]);
    const direct = Array.from(stored, (v) => { const g = core.windowValue(v * slope + intercept, center, width, fn); return invert ? 255 - g : g; });
    return { table, direct };
  });
}"""


def python_display(values, dtype, slope, intercept, photometric, center, width, function) -> list[int]:
    ds = Dataset()
    ds.RescaleSlope, ds.RescaleIntercept, ds.PhotometricInterpretation = slope, intercept, photometric
    stored = np.array(list(values), dtype=dtype)
    return apply_presentation(apply_window(apply_modality(stored, ds), Window(center, width, function)), ds).tolist()


def test_windowing_agrees_with_python_to_the_grey_level(page, static_site):
    from readingroom.widgets.assets import modules_version

    page.goto(static_site["url"])
    sent = [{"values": list(values), "dtype": dtype, "slope": slope, "intercept": intercept,
             "invert": photometric == "MONOCHROME1", "center": center, "width": width, "fn": fn}
            for _, values, dtype, slope, intercept, photometric, center, width, fn in VECTORS]
    painted = page.evaluate(PAINT, [modules_version(), sent])
    for (name, *vector), js in zip(VECTORS, painted):
        expected = python_display(*vector)
        assert js["table"] == expected, name
        assert js["direct"] == expected, name
    assert page.console.errors == []


def test_halves_exist_in_the_vectors():
    """The rounding rule is tested only if some value lands exactly on a half grey level."""
    _, values, dtype, slope, intercept, _, center, width, _ = VECTORS[3]
    x = np.array(list(values), dtype=np.float64)
    y = np.clip((x - (center - 0.5)) / (width - 1) + 0.5, 0, 1) * 255
    halves = y[(y % 1) == 0.5]
    assert len(halves) > 100 and np.any(np.rint(halves) != np.floor(halves + 0.5))


PALETTE = """async ([version, m]) => {
  const core = await import(`/readingroom/static/${version}/core.js`);
  const get = async (d) => (await fetch(`/readingroom/frames/${d}.bin`)).arrayBuffer();
  const palette = await core.decodeLossless(await get(m.palette), 1, m.palette_size, 3, "uint8");
  const values = await core.decodeLossless(await get(m.lossless[0]), m.rows, m.columns, m.samples, m.dtype);
  const image = new ImageData(m.columns, m.rows);
  core.paintValues(image, values, null, m, { invert: false }, palette);
  let text = "";
  for (let i = 0; i < image.data.length; i += 4) text += String.fromCharCode(image.data[i], image.data[i + 1], image.data[i + 2]);
  return btoa(text);
}"""


def test_palette_colour_agrees_with_python_exactly(page, static_site, data_store_files):
    from readingroom.frames import FrameCache, encode_series
    from readingroom.widgets.assets import modules_version

    series = open_path(Path(data_store_files) / "gdcm-US-ALOKA-16.dcm").series[0]
    manifest = encode_series(series, FrameCache(static_site["cache"]))
    page.goto(static_site["url"])
    rgb = np.frombuffer(base64.b64decode(page.evaluate(PALETTE, [modules_version(), manifest])), dtype=np.uint8)
    expected = render_frame(series.frames[0])
    assert expected.ndim == 3 and decode_frame(series.frames[0]).ndim == 2  # indices through the palette
    assert np.array_equal(rgb.reshape(expected.shape), expected)

"""The frame encoder: lossless tier bit-exact on real files, previews small, manifest complete."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from readingroom.dicom import decode_frame, open_path
from readingroom.dicom.synthetic import write_ct_phantom
from readingroom.frames import FrameCache, decode_lossless, encode_lossless, encode_series
from readingroom.frames.encode import delivery_order

REAL_FILES = [
    ("pydicom", "CT_small.dcm"),
    ("pydicom", "MR_small.dcm"),
    ("data_store", "gdcm-US-ALOKA-16.dcm"),  # palette colour, 16-bit indices
    ("data_store", "US1_UNCR.dcm"),  # RGB
    ("data_store", "emri_small.dcm"),  # multi-frame MR
    ("data_store", "RG1_UNCR.dcm"),  # MONOCHROME1 CR
]


def _real(which, name, pydicom_files, data_store_files):
    return (pydicom_files if which == "pydicom" else data_store_files) / name


@pytest.mark.parametrize(("which", "name"), REAL_FILES, ids=[n for _, n in REAL_FILES])
def test_lossless_tier_round_trips_every_frame_bit_exact(which, name, pydicom_files, data_store_files, tmp_path):
    series = open_path(_real(which, name, pydicom_files, data_store_files)).series[0]
    cache = FrameCache(tmp_path)
    manifest = encode_series(series, cache)
    shape = (manifest["rows"], manifest["columns"]) + ((3,) if manifest["samples"] == 3 else ())
    assert len(manifest["lossless"]) == series.frame_count
    for k, frame in enumerate(series.frames):
        expected = decode_frame(frame)
        got = decode_lossless(cache.get(manifest["lossless"][k], "bin"), shape, manifest["dtype"])
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_manifest_describes_kind_inversion_and_palette(pydicom_files, data_store_files, tmp_path):
    cache = FrameCache(tmp_path)
    cr = encode_series(open_path(data_store_files / "RG1_UNCR.dcm").series[0], cache)
    assert (cr["kind"], cr["invert"]) == ("grey", True)
    us = encode_series(open_path(data_store_files / "gdcm-US-ALOKA-16.dcm").series[0], cache)
    assert us["kind"] == "palette" and us["palette_size"] == 65536
    lut = decode_lossless(cache.get(us["palette"], "bin"), (1, 65536, 3), "uint8")
    assert lut.shape == (1, 65536, 3) and lut.max() > 0
    rgb = encode_series(open_path(data_store_files / "US1_UNCR.dcm").series[0], cache)
    assert (rgb["kind"], rgb["samples"], rgb["dtype"]) == ("rgb", 3, "uint8")
    mr = encode_series(open_path(data_store_files / "emri_small.dcm").series[0], cache)
    assert mr["count"] == 10 and mr["start"] == 0  # a multi-frame object plays from its first frame


@pytest.fixture(scope="module")
def phantom_manifest(tmp_path_factory):
    root = tmp_path_factory.mktemp("phantom")
    write_ct_phantom(root / "ct", slices=9, size=128, pixel_spacing=(0.6, 0.7), slice_spacing=2.0)
    series = open_path(root / "ct").series[0]
    cache = FrameCache(root / "cache")
    return series, cache, encode_series(series, cache)


def test_phantom_manifest_carries_geometry_rescale_and_windows(phantom_manifest):
    series, _, manifest = phantom_manifest
    assert manifest["pixel_spacing"] == [0.6, 0.7] and manifest["detector_plane"] is False
    assert manifest["slice_spacing"] == pytest.approx(2.0)
    assert manifest["rescale"][0] == [1.0, -1024.0] and manifest["units"] == "HU"
    assert manifest["edge_labels"] == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert manifest["windows"][0]["center"] == 40 and manifest["windows"][0]["width"] == 80
    assert [p["name"] for p in manifest["presets"]][:4] == ["brain", "subdural", "stroke", "lung"]
    assert manifest["start"] == 4 and manifest["order"] == [4, 5, 3, 6, 2, 7, 1, 8, 0]
    json.dumps(manifest)  # JSON-able as is


def test_previews_are_small_jpegs_of_the_default_window(phantom_manifest):
    _, cache, manifest = phantom_manifest
    data = cache.get(manifest["preview"][4], "jpg")
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and max(image.size) <= 256
    grey = np.asarray(image.convert("L"))
    # window 40/80: air (-1000) is black and bone (700) white
    assert grey[2, 2] < 10 and grey.max() > 245


def test_second_encode_reuses_the_cache(phantom_manifest):
    series, cache, manifest = phantom_manifest
    for path in (cache.root / "blobs").rglob("*.bin"):
        mtime = path.stat().st_mtime_ns
        break
    again = encode_series(series, cache)
    assert again == manifest and path.stat().st_mtime_ns == mtime


def test_lossless_ratio_on_ct_beats_raw_int16(phantom_manifest):
    _, cache, manifest = phantom_manifest
    encoded = sum(len(cache.get(d, "bin")) for d in manifest["lossless"])
    assert 9 * 128 * 128 * 2 / encoded > 2.5


@pytest.mark.parametrize("dtype", ["int16", "uint16", "uint8", "int32"])
def test_codec_round_trips_extremes(dtype):
    info = np.iinfo(dtype)
    arr = np.array([[info.min, info.max, 0, info.min], [info.max, info.min, 1, -1 if info.min < 0 else 7]], dtype=dtype)
    np.testing.assert_array_equal(decode_lossless(encode_lossless(arr), arr.shape, dtype), arr)


def test_codec_refuses_float_samples():
    with pytest.raises(ValueError, match="integer samples, got float32"):
        encode_lossless(np.zeros((2, 2), np.float32))


def test_delivery_order_starts_at_the_start_and_covers_every_frame():
    assert delivery_order(5, 0) == [0, 1, 2, 3, 4]
    assert delivery_order(5, 4) == [4, 3, 2, 1, 0]
    assert sorted(delivery_order(300, 150)) == list(range(300))

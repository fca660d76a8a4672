"""Every image file of both public sets renders like pydicom's reference pipeline,
or fails with one clear line naming the file (and then pydicom cannot decode it either)."""

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi

from readingroom.dicom import auto_window, decode_frame, header_windows, open_path, render_frame
from readingroom.dicom.frames import frame_dataset
from readingroom.errors import DecodeError, InputError

from ..conftest import public_files
from .test_processing import pydicom_window_01

FILES = public_files()

# Files pydicom's whole-dataset reader rejects but whose frames are intact: checked
# against the same image stored uncompressed instead.
UNCOMPRESSED_TWINS = {"emri_small_jpeg_2k_lossless_too_short.dcm": "emri_small.dcm"}


def reference_render(path, frame) -> np.ndarray:
    """The display image computed with pydicom's own functions on the whole file."""
    full = dcmread(path)
    arr = full.pixel_array
    if int(full.get("NumberOfFrames") or 1) > 1:
        arr = arr[frame.index]
    ds = frame_dataset(full, frame.index)
    photometric = str(ds.PhotometricInterpretation)
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        return (rgb >> 8).astype(np.uint8) if rgb.dtype.itemsize > 1 else rgb
    if arr.ndim == 3:
        bits = int(ds.BitsStored)
        return arr.astype(np.uint8) if bits <= 8 else (arr.astype(np.uint64) >> (bits - 8)).astype(np.uint8)
    if "VOILUTSequence" in ds:
        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        unit = apply_voi(arr, ds).astype(np.float64) / (2**bits - 1)
    else:
        values = apply_modality_lut(arr, ds)
        windows = header_windows(ds)
        window = windows[0] if windows else auto_window(values)
        unit = pydicom_window_01(values, ds, window)
    shown = np.rint(unit * 255).clip(0, 255).astype(np.uint8)
    return 255 - shown if photometric == "MONOCHROME1" else shown


def pydicom_can_decode(path) -> bool:
    try:
        dcmread(path).pixel_array
    except Exception:
        return False
    return True


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_renders_like_pydicom_or_fails_clearly(path):
    try:
        collection = open_path(path)
    except InputError as error:
        message = str(error)
        assert "\n" not in message and path.name in message
        return
    for stack in collection.series:
        frames = stack.frames if stack.frame_count <= 2 else [stack.frames[0], stack.frames[-1]]
        for frame in frames:
            try:
                shown = render_frame(frame)
            except DecodeError as error:
                assert "\n" not in str(error) and path.name in str(error)
                assert not pydicom_can_decode(path), "we failed where pydicom succeeds"
                continue
            source = frame.instance.source.path  # for a DICOMDIR, the file it points to
            if source.name in UNCOMPRESSED_TWINS:
                source = source.with_name(UNCOMPRESSED_TWINS[source.name])
            full = dcmread(source)
            stored = full.pixel_array
            if int(full.get("NumberOfFrames") or 1) > 1:
                stored = stored[frame.index]
            np.testing.assert_array_equal(decode_frame(frame), stored)
            expected = reference_render(source, frame)
            assert shown.shape == expected.shape and shown.dtype == np.uint8
            assert np.abs(shown.astype(int) - expected.astype(int)).max() <= 1


def test_the_public_sets_are_really_there():
    """Guards the parametrisation above against silently testing nothing."""
    assert len(FILES) > 140
    assert sum(1 for p in FILES if p.name == "RG1_J2KR.dcm") == 1

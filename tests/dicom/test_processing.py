import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_windowing

from readingroom.dicom import Window, auto_window, header_windows, open_path, render_frame
from readingroom.dicom.processing import apply_modality, apply_presentation, apply_window
from readingroom.errors import InputError


def pydicom_window_01(values: np.ndarray, ds: Dataset, window: Window) -> np.ndarray:
    """pydicom's windowing of ``values``, scaled to 0..1 using sentinels far outside the window."""
    reference = Dataset()
    for keyword in ("BitsStored", "PixelRepresentation", "RescaleSlope", "RescaleIntercept", "ModalityLUTSequence"):
        if keyword in ds:
            setattr(reference, keyword, ds[keyword].value)
    reference.BitsStored = int(ds.get("BitsStored", 16))
    reference.PixelRepresentation = int(ds.get("PixelRepresentation", 0))
    reference.PhotometricInterpretation = "MONOCHROME2"  # inversion is checked separately
    reference.WindowCenter, reference.WindowWidth = window.center, window.width
    reference.VOILUTFunction = window.function
    span = 1e6 + abs(window.center) + window.width
    padded = np.concatenate([values.ravel().astype(np.float64), [window.center - span, window.center + span]])
    out = apply_windowing(padded, reference)
    low, high = out[-2], out[-1]
    return ((out[:-2] - low) / (high - low)).reshape(values.shape)


class TestApplyModality:
    def test_ct_rescale_matches_pydicom(self, pydicom_files):
        ds = dcmread(pydicom_files / "CT_small.dcm")
        np.testing.assert_allclose(apply_modality(ds.pixel_array, ds), apply_modality_lut(ds.pixel_array, ds))

    def test_modality_lut_sequence_matches_pydicom(self, data_store_files):
        ds = dcmread(data_store_files / "mlut_18.dcm")
        np.testing.assert_array_equal(apply_modality(ds.pixel_array, ds), apply_modality_lut(ds.pixel_array, ds))

    def test_without_rescale_returns_the_input_itself(self, pydicom_files):
        ds = dcmread(pydicom_files / "MR_small.dcm")
        arr = ds.pixel_array
        assert apply_modality(arr, ds) is arr

    def test_does_not_modify_the_dataset(self, pydicom_files):
        ds = dcmread(pydicom_files / "CT_small.dcm")
        before = (ds.RescaleSlope, ds.RescaleIntercept)
        apply_modality(ds.pixel_array, ds)
        assert (ds.RescaleSlope, ds.RescaleIntercept) == before


class TestApplyWindow:
    @pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
    @pytest.mark.parametrize(("center", "width"), [(40, 80), (-600, 1500), (0.5, 1), (1000, 3)])
    def test_matches_pydicom_for_every_function(self, function, center, width):
        values = np.linspace(-2000, 3000, 20_001)
        window = Window(center, width, function)
        ds = Dataset()
        ds.BitsStored, ds.PixelRepresentation = 16, 1
        ours = apply_window(values, window).astype(int)
        reference = np.rint(pydicom_window_01(values, ds, window) * 255).astype(int)
        assert np.abs(ours - reference).max() <= 1

    def test_output_is_uint8_with_full_range(self):
        out = apply_window(np.array([-1000, 39.5, 1000]), Window(40, 80))  # LINEAR centres on c - 0.5
        assert out.dtype == np.uint8 and out.tolist() == [0, 128, 255]

    @pytest.mark.parametrize(("function", "width", "rule"), [("LINEAR", 0.5, ">= 1"), ("SIGMOID", 0, "> 0"), ("LINEAR_EXACT", -1, "> 0")])
    def test_invalid_width_names_the_tag_and_rule(self, function, width, rule):
        with pytest.raises(InputError, match=rf"\(0028,1051\) Window Width must be {rule} for {function}, got {width}"):
            Window(40, width, function)

    def test_unknown_function_is_rejected(self):
        with pytest.raises(InputError, match=r"\(0028,1056\) VOI LUT Function 'CUBIC'"):
            Window(40, 80, "CUBIC")


class TestHeaderWindows:
    def test_multi_valued_windows_keep_their_explanations(self):
        ds = Dataset()
        ds.WindowCenter, ds.WindowWidth = [40, 600], [80, 2800]
        ds.WindowCenterWidthExplanation = ["BRAIN", "BONE"]
        assert header_windows(ds) == [Window(40, 80, name="BRAIN"), Window(600, 2800, name="BONE")]

    def test_sigmoid_function_is_carried(self):
        ds = Dataset()
        ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 100, 50, "SIGMOID"
        assert header_windows(ds)[0].function == "SIGMOID"

    def test_broken_header_window_is_skipped(self):
        ds = Dataset()
        ds.WindowCenter, ds.WindowWidth = [40, 50], [0, 400]
        assert header_windows(ds) == [Window(50, 400)]


class TestPresentation:
    def test_monochrome1_is_inverted(self):
        ds = Dataset()
        ds.PhotometricInterpretation = "MONOCHROME1"
        assert apply_presentation(np.array([0, 10, 255], np.uint8), ds).tolist() == [255, 245, 0]

    def test_monochrome2_is_unchanged(self):
        ds = Dataset()
        ds.PhotometricInterpretation = "MONOCHROME2"
        assert apply_presentation(np.array([0, 10], np.uint8), ds).tolist() == [0, 10]

    def test_radiograph_shows_bone_bright(self, data_store_files):
        """RG1 is MONOCHROME1: low stored values are bright. The collimated border
        (raw maximum, i.e. unexposed) must render white, as on film."""
        frame = open_path(data_store_files / "RG1_UNCR.dcm").series[0].frames[0]
        stored = dcmread(data_store_files / "RG1_UNCR.dcm").pixel_array
        shown = render_frame(frame)
        darkest_stored = stored == stored.min()
        brightest_stored = stored == stored.max()
        assert shown[darkest_stored].mean() > shown[brightest_stored].mean()


class TestAutoWindow:
    def test_spans_the_central_percentiles(self):
        values = np.concatenate([np.zeros(1000), np.full(1000, 100.0)])
        window = auto_window(values)
        assert window.center == pytest.approx(50, abs=1) and window.width >= 100

    def test_flat_image_still_gets_a_valid_window(self):
        assert auto_window(np.full((4, 4), 7.0)).width >= 1


class TestRenderWithPresets:
    def test_lung_preset_on_ct_phantom(self, small_ct):
        frame = open_path(small_ct).series[0].frames[6]
        lung = render_frame(frame, "lung")  # -600 / 1500: air dark grey, soft tissue near white
        brain = render_frame(frame, (40, 80))  # air black, soft tissue mid-grey
        body = (slice(16, 22), slice(28, 36))  # soft tissue, clear of the lesion and the bone ring
        assert 50 < lung[0, 0] < 70 and lung[body].mean() > 220
        assert brain[0, 0] == 0 and 100 < brain[body].mean() < 160

import numpy as np
import pytest
from pydicom.dataset import Dataset

from readingroom.dicom import open_path
from readingroom.dicom.geometry import direction_label, edge_labels, pixel_spacing


def _with(**attributes) -> Dataset:
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


class TestEdgeLabels:
    @pytest.mark.parametrize(
        ("orientation", "expected"),
        [
            ([1, 0, 0, 0, 1, 0], {"left": "R", "right": "L", "top": "A", "bottom": "P"}),  # axial
            ([1, 0, 0, 0, 0, -1], {"left": "R", "right": "L", "top": "H", "bottom": "F"}),  # coronal
            ([0, 1, 0, 0, 0, -1], {"left": "A", "right": "P", "top": "H", "bottom": "F"}),  # sagittal
        ],
    )
    def test_standard_planes(self, orientation, expected):
        assert edge_labels(_with(ImageOrientationPatient=orientation)) == expected

    def test_oblique_lists_the_strongest_axis_first(self):
        row = np.array([0.8, 0.6, 0.0])
        assert direction_label(row) == "LP"

    def test_projection_radiograph_uses_patient_orientation(self):
        assert edge_labels(_with(PatientOrientation=["L", "F"])) == {"left": "R", "right": "L", "top": "H", "bottom": "F"}

    def test_no_orientation_no_labels(self):
        assert edge_labels(Dataset()) is None


class TestPixelSpacing:
    def test_pixel_spacing_is_in_the_patient(self):
        spacing = pixel_spacing(_with(PixelSpacing=[0.5, 0.6]))
        assert (spacing.row, spacing.column, spacing.detector_plane) == (0.5, 0.6, False)

    def test_imager_pixel_spacing_is_flagged_as_detector_plane(self, pydicom_files):
        stack = open_path(pydicom_files / "dicomdirtests" / "77654033" / "CR1" / "6154").series[0]
        assert stack.pixel_spacing.detector_plane
        assert stack.pixel_spacing.calibration == "ImagerPixelSpacing"

    def test_ultrasound_calibration_from_regions_in_mm(self, data_store_files):
        stack = open_path(data_store_files / "JPGLosslessP14SV1_1s_1f_8b.dcm").series[0]
        assert stack.pixel_spacing.row == pytest.approx(0.25476697, rel=1e-6)
        assert stack.pixel_spacing.calibration == "SequenceOfUltrasoundRegions"

    def test_missing_spacing_is_none(self, data_store_files):
        assert open_path(data_store_files / "US1_UNCR.dcm").series[0].pixel_spacing is None

    def test_zero_spacing_is_treated_as_missing(self):
        assert pixel_spacing(_with(PixelSpacing=[0, 0])) is None

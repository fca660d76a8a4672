import shutil

import numpy as np
import pydicom
import pytest

from readingroom.dicom import open_path


class TestOrdering:
    def test_shuffled_300_slices_come_back_in_patient_order(self, ct_series_300):
        series = open_path(ct_series_300).series
        assert len(series) == 1
        stack = series[0]
        assert stack.frame_count == 300
        z = [float(f.dataset.ImagePositionPatient[2]) for f in stack.frames]
        assert z == sorted(z) and len(set(z)) == 300
        assert [int(f.dataset.InstanceNumber) for f in stack.frames] == list(range(1, 301))
        assert stack.slice_spacing == pytest.approx(1.25)
        assert stack.regular and stack.warnings == []

    def test_order_follows_the_slice_normal_not_the_z_value(self, tmp_path, small_ct):
        """A sagittal stack is ordered along x; sorting by z would scramble it."""
        for path in small_ct.iterdir():
            ds = pydicom.dcmread(path)
            k = int(ds.InstanceNumber) - 1
            ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
            ds.ImagePositionPatient = [-10.0 + 3.0 * k, -20.0, 40.0 - 0.01 * ((k * 7) % 5)]
            ds.save_as(path)
        stack = open_path(small_ct).series[0]
        # row x column = (0,1,0) x (0,0,-1) = (-1,0,0): the normal points to the patient's
        # right, so the stack runs from the highest x to the lowest, ignoring the z jitter.
        assert [int(f.dataset.InstanceNumber) for f in stack.frames] == list(range(12, 0, -1))
        assert stack.slice_spacing == pytest.approx(3.0)
        assert stack.edge_labels == {"left": "A", "right": "P", "top": "H", "bottom": "F"}

    def test_instance_number_is_the_fallback_without_positions(self, small_ct):
        for path in small_ct.iterdir():
            ds = pydicom.dcmread(path)
            del ds.ImagePositionPatient
            ds.save_as(path)
        stack = open_path(small_ct).series[0]
        assert [int(f.dataset.InstanceNumber) for f in stack.frames] == list(range(1, 13))
        assert not stack.regular

    def test_enhanced_multiframe_uses_per_frame_positions(self, data_store_files):
        stack = open_path(data_store_files / "eCT_Supplemental.dcm").series[0]
        assert stack.frame_count == 2
        positions = [f.position for f in stack.frames]
        assert all(p is not None for p in positions)
        orientation = np.array(stack.frames[0].dataset.ImageOrientationPatient, dtype=float)
        normal = np.cross(orientation[:3], orientation[3:])
        assert np.dot(positions[0], normal) < np.dot(positions[1], normal)
        assert stack.pixel_spacing is not None


class TestProblemsInASeries:
    def test_duplicate_files_are_dropped_and_reported(self, small_ct):
        for path in list(small_ct.iterdir())[:3]:
            shutil.copy(path, small_ct / f"copy-of-{path.name}")
        stack = open_path(small_ct).series[0]
        assert stack.frame_count == 12
        assert "3 duplicate instance(s) ignored" in stack.warnings

    def test_a_missing_slice_is_reported_as_a_gap(self, small_ct):
        victim = next(p for p in small_ct.iterdir() if int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber) == 6)
        victim.unlink()
        stack = open_path(small_ct).series[0]
        assert stack.frame_count == 11
        assert stack.warnings == ["gap after slice 5: 4.00 mm where 2.00 mm is typical"]
        assert not stack.regular

    def test_mixed_series_in_one_folder_are_separated(self, small_ct, pydicom_files, data_store_files):
        shutil.copy(pydicom_files / "MR_small.dcm", small_ct / "mr.dcm")
        shutil.copy(data_store_files / "US1_UNCR.dcm", small_ct / "us.dcm")
        collection = open_path(small_ct)
        assert sorted((s.modality, s.frame_count) for s in collection.series) == [("CT", 12), ("MR", 1), ("US", 1)]
        assert len(collection.studies) == 3

    def test_multiframe_clip_is_its_own_stack_in_native_order(self, data_store_files):
        stack = open_path(data_store_files / "color3d_jpeg_baseline.dcm").series[0]
        assert stack.frame_count == 120
        assert [f.index for f in stack.frames] == list(range(120))
        assert stack.is_color

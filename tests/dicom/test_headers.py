import io
import shutil

import pytest

from readingroom.dicom import SourceFile, open_path, read_instance
from readingroom.errors import InputError, NotAnImageError


class _CountingSource(SourceFile):
    """A source that records how many bytes the reader pulled from disk."""

    def open(self):
        raw = open(self.path, "rb", buffering=0)
        counter = self

        class Counting(io.RawIOBase):
            def readinto(self, buffer):
                n = raw.readinto(buffer)
                object.__setattr__(counter, "bytes_read", getattr(counter, "bytes_read", 0) + (n or 0))
                return n

            def seekable(self):
                return True

            def seek(self, offset, whence=0):
                return raw.seek(offset, whence)

            def tell(self):
                return raw.tell()

            def readable(self):
                return True

            @property
            def name(self):
                return str(counter.path)

            def close(self):
                raw.close()
                super().close()

        return io.BufferedReader(Counting(), buffer_size=1024)


class TestReadInstance:
    def test_header_only_reads_no_pixel_data(self, tmp_path):
        from readingroom.dicom.synthetic import write_ct_phantom

        path = write_ct_phantom(tmp_path, slices=1, size=512)[0]
        source = _CountingSource(label=path.name, path=path)
        instance = read_instance(source)
        assert "PixelData" not in instance.header
        assert path.stat().st_size > 500_000
        assert source.bytes_read < 8_000  # the header, not the 512 KB of pixels

    def test_not_dicom(self, tmp_path):
        path = tmp_path / "notes.txt"
        path.write_text("hello")
        with pytest.raises(InputError, match=r"^notes.txt: not a DICOM file"):
            read_instance(SourceFile(label="notes.txt", path=path))

    def test_truncated_pixel_data_is_reported_from_the_header(self, pydicom_files):
        path = pydicom_files / "MR_truncated.dcm"
        with pytest.raises(InputError, match=r"MR_truncated.dcm: truncated file: pixel data needs 8192 bytes but only 8130 remain"):
            read_instance(SourceFile(label=path.name, path=path))

    def test_file_cut_inside_the_header(self, tmp_path, pydicom_files):
        path = tmp_path / "cut.dcm"
        path.write_bytes((pydicom_files / "CT_small.dcm").read_bytes()[:700])
        with pytest.raises(InputError, match=r"^cut.dcm: "):
            read_instance(SourceFile(label=path.name, path=path))

    @pytest.mark.parametrize(
        ("name", "kind"),
        [("test-SR.dcm", r"Comprehensive SR Storage \(SR\)"), ("rtplan.dcm", r"RT Plan Storage \(RTPLAN\)"), ("waveform_ecg.dcm", r"12-lead ECG Waveform Storage \(ECG\)")],
    )
    def test_objects_without_pixels_are_named(self, pydicom_files, name, kind):
        with pytest.raises(NotAnImageError, match=rf"^{name}: {kind} has no pixel data; nothing to show$"):
            read_instance(SourceFile(label=name, path=pydicom_files / name))

    def test_invalid_number_of_frames_names_the_tag(self, pydicom_files):
        with pytest.raises(InputError, match=r"\(0028,0008\) NumberOfFrames must be a whole number >= 1, got '1A'"):
            read_instance(SourceFile(label="badVR.dcm", path=pydicom_files / "badVR.dcm"))


class TestFolderWithBadFiles:
    def test_good_files_open_and_bad_ones_are_listed(self, tmp_path, small_ct, pydicom_files):
        shutil.copy(pydicom_files / "test-SR.dcm", small_ct / "report.dcm")
        (small_ct / "readme.txt").write_text("burn log")
        collection = open_path(small_ct)
        assert collection.series[0].frame_count == 12
        assert sorted(p.label for p in collection.problems) == ["readme.txt", "report.dcm"]

    def test_a_folder_of_only_bad_files_is_bad_input(self, tmp_path):
        (tmp_path / "a.txt").write_text("x")
        (tmp_path / "b.txt").write_text("y")
        with pytest.raises(InputError, match=r"none of the 2 files is a usable DICOM image \(first: a.txt: not a DICOM file"):
            open_path(tmp_path)

import shutil
import zipfile

import pytest

from readingroom.dicom import list_source_files, open_path
from readingroom.errors import InputError


class TestListSourceFiles:
    def test_folder_is_walked_recursively_in_stable_order(self, tmp_path, small_ct):
        nested = tmp_path / "cd" / "deep" / "er"
        shutil.copytree(small_ct, nested)
        labels = [f.label for f in list_source_files(tmp_path / "cd")]
        assert len(labels) == 12
        assert labels == sorted(labels)
        assert all(label.startswith("deep/er/") for label in labels)

    def test_zip_members_open_without_extracting(self, tmp_path, small_ct):
        archive = tmp_path / "study.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for path in small_ct.iterdir():
                zf.write(path, f"export/{path.name}")
            zf.writestr("__MACOSX/._junk", b"resource fork")
        files = list_source_files(archive)
        assert len(files) == 12
        assert all(f.member and f.local_path is None for f in files)
        collection = open_path(archive)
        assert collection.series[0].frame_count == 12

    def test_dicomdir_lists_the_files_it_references(self, pydicom_files):
        files = list_source_files(pydicom_files / "dicomdirtests" / "DICOMDIR")
        assert len(files) == 31
        assert all(f.path.is_file() for f in files)

    def test_dicomdir_opens_as_a_patient_cd(self, pydicom_files):
        collection = open_path(pydicom_files / "dicomdirtests" / "DICOMDIR")
        modalities = sorted({s.modality for s in collection.series})
        assert modalities == ["CR", "CT", "MR"]
        assert sum(s.frame_count for s in collection.series) == 31

    def test_missing_path_says_what_to_give(self, tmp_path):
        with pytest.raises(InputError, match=r"no such file or folder; give a DICOM file, folder, zip or DICOMDIR"):
            list_source_files(tmp_path / "absent")

    def test_empty_folder_is_bad_input(self, tmp_path):
        with pytest.raises(InputError, match="no files found"):
            open_path(tmp_path)

"""Where DICOM files come from: a file, a folder (recursive), a zip, or a DICOMDIR.

Every source is flattened into :class:`SourceFile` handles that open lazily, so a
caller can read headers first and pixels later without holding files open.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from readingroom.errors import InputError

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class SourceFile:
    """One file inside a source; ``label`` is its path relative to the source root."""

    label: str
    path: Path
    member: str | None = None  # name inside a zip when the source is an archive

    def open(self) -> BinaryIO:
        """Open for reading; zip members are read into memory (zip is not seekable)."""
        if self.member is None:
            return open(self.path, "rb")
        with zipfile.ZipFile(self.path) as archive:
            return io.BytesIO(archive.read(self.member))

    @property
    def local_path(self) -> Path | None:
        """A filesystem path pydicom can read directly, when there is one."""
        return self.path if self.member is None else None


def list_source_files(source: str | os.PathLike) -> list[SourceFile]:
    """Every candidate file of ``source`` in a stable order.

    DICOMDIR index files are not returned themselves: for a DICOMDIR the files it
    references are, and in a folder walk it is skipped as an index, not an image.
    """
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder; give a DICOM file, folder, zip or DICOMDIR")
    if path.is_dir():
        return _folder_files(path)
    if zipfile.is_zipfile(path):
        return _zip_files(path)
    if is_dicomdir(path):
        return _dicomdir_files(path)
    return [SourceFile(label=path.name, path=path)]


def is_dicomdir(path: Path) -> bool:
    """True for a DICOMDIR (Media Storage Directory) file, judged by its header."""
    if path.name.upper() == "DICOMDIR":
        return True
    try:
        with open(path, "rb") as fp:
            head = fp.read(512)
    except OSError:
        return False
    return head[128:132] == b"DICM" and DICOMDIR_SOP_CLASS.encode() in head


def _folder_files(root: Path) -> list[SourceFile]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name in _IGNORED_NAMES or name.startswith("."):
                continue
            path = Path(dirpath) / name
            if name.upper() == "DICOMDIR":  # the CD's index; judged by name to avoid opening every file twice
                continue
            files.append(SourceFile(label=str(path.relative_to(root)), path=path))
    return files


def _zip_files(archive_path: Path) -> list[SourceFile]:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            names = [
                info.filename
                for info in archive.infolist()
                if not info.is_dir()
                and not info.filename.startswith("__MACOSX/")
                and Path(info.filename).name not in _IGNORED_NAMES
                and Path(info.filename).name.upper() != "DICOMDIR"
            ]
    except zipfile.BadZipFile as error:
        raise InputError(f"{archive_path}: not a readable zip archive ({error})") from None
    return [SourceFile(label=name, path=archive_path, member=name) for name in sorted(names)]


def _dicomdir_files(dicomdir: Path) -> list[SourceFile]:
    from pydicom import dcmread
    from pydicom.errors import InvalidDicomError
    from pydicom.fileset import FileSet

    try:
        fileset = FileSet(dcmread(dicomdir))
    except (InvalidDicomError, ValueError, AttributeError, KeyError) as error:
        raise InputError(f"{dicomdir}: not a usable DICOMDIR ({error}); open its folder instead") from None
    root = dicomdir.parent.resolve()
    files = []
    for instance in fileset:
        path = Path(instance.path).resolve()
        files.append(SourceFile(label=str(path.relative_to(root)), path=path))
    return sorted(files, key=lambda f: f.label)

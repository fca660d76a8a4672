"""Where DICOM files come from: a file, a folder (recursive), a zip, or a DICOMDIR.

Every source is flattened into :class:`SourceFile` handles that open lazily, so a
caller can read headers first and pixels later without holding files open. Each handle
carries the :class:`~readingroom.dicom.limits.InputLimits` it was listed under: an
archive is refused at listing when a member declares a size or inflation beyond them,
and a member is read in chunks that stop at the limit whatever its header claimed.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from readingroom.dicom.limits import InputLimits
from readingroom.errors import InputError, LimitError

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    """One file inside a source; ``label`` is its path relative to the source root."""

    label: str
    path: Path
    member: str | None = None  # name inside a zip when the source is an archive
    limits: InputLimits = field(default_factory=InputLimits, compare=False)

    def open(self) -> BinaryIO:
        """Open for reading; a file beyond the size limit raises :class:`LimitError` before any is read.

        Zip members are read into memory (a member is not seekable), chunk by chunk, and
        never beyond the limits, even when the member's header understates its size.
        """
        if self.member is None:
            fp = open(self.path, "rb")
            try:
                self.limits.check_file_size(self.label, os.fstat(fp.fileno()).st_size)
            except LimitError:
                fp.close()
                raise
            return fp
        with zipfile.ZipFile(self.path) as archive:
            info = archive.getinfo(self.member)
            self.limits.check_member(self.label, info.file_size, info.compress_size)
            data = bytearray()
            try:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        data += chunk
                        self.limits.check_member(self.label, len(data), info.compress_size)
            except (zipfile.BadZipFile, EOFError, zlib.error) as error:  # e.g. a member longer than it declares
                raise InputError(f"{self.label}: damaged archive member ({error}); re-create the zip") from None
        return io.BytesIO(data)

    @property
    def local_path(self) -> Path | None:
        """A filesystem path pydicom can read directly, when there is one."""
        return self.path if self.member is None else None


def list_source_files(source: str | os.PathLike, limits: InputLimits | None = None) -> list[SourceFile]:
    """Every candidate file of ``source`` in a stable order, under ``limits`` (default: from the environment).

    DICOMDIR index files are not returned themselves: for a DICOMDIR the files it
    references are, and in a folder walk it is skipped as an index, not an image.
    A single file, or any member of an archive, beyond the limits refuses the whole
    source (:class:`LimitError`); a large file inside a folder is refused when opened.
    """
    path = Path(source)
    limits = limits or InputLimits.from_environment()
    if not path.exists():
        raise InputError(f"{path}: no such file or folder; give a DICOM file, folder, zip or DICOMDIR")
    if path.is_dir():
        return _folder_files(path, limits)
    if zipfile.is_zipfile(path):
        return _zip_files(path, limits)
    if is_dicomdir(path):
        return _dicomdir_files(path, limits)
    limits.check_file_size(str(path), path.stat().st_size)
    return [SourceFile(label=path.name, path=path, limits=limits)]


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


def _folder_files(root: Path, limits: InputLimits) -> list[SourceFile]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name in _IGNORED_NAMES or name.startswith("."):
                continue
            path = Path(dirpath) / name
            if name.upper() == "DICOMDIR":  # the CD's index; judged by name to avoid opening every file twice
                continue
            files.append(SourceFile(label=str(path.relative_to(root)), path=path, limits=limits))
    return files


def _zip_files(archive_path: Path, limits: InputLimits) -> list[SourceFile]:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            members = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and not info.filename.startswith("__MACOSX/")
                and Path(info.filename).name not in _IGNORED_NAMES
                and Path(info.filename).name.upper() != "DICOMDIR"
            ]
    except zipfile.BadZipFile as error:
        raise InputError(f"{archive_path}: not a readable zip archive ({error})") from None
    for info in members:  # a bomb is refused whole, before anything is unpacked or written
        limits.check_member(f"{archive_path}: {info.filename}", info.file_size, info.compress_size)
    names = sorted(info.filename for info in members)
    return [SourceFile(label=name, path=archive_path, member=name, limits=limits) for name in names]


def _dicomdir_files(dicomdir: Path, limits: InputLimits) -> list[SourceFile]:
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
        files.append(SourceFile(label=str(path.relative_to(root)), path=path, limits=limits))
    return sorted(files, key=lambda f: f.label)

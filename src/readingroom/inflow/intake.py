"""Where arriving instances are de-identified and land: in memory first, then one atomic write.

An :class:`Intake` is shared by every way a study comes in (DICOMweb, C-GET, C-MOVE,
the Storage SCP). It names files only from de-identified values, writes each to a hidden
temporary beside its place and renames it there, and counts what it held back (by reason,
never by content), so its report is fit to publish as the case's ``deid.json``.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from pathlib import Path

from pydicom import dcmwrite
from pydicom.dataset import Dataset

from readingroom.deid import DeidReport, HeldBack, deidentify_dataset, key_fingerprint, load_basic_profile
from readingroom.errors import InputError

TEMP_PREFIX = ".arriving-"
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"


def short_name(uid: str) -> str:
    """Eight hex digits naming a de-identified UID in paths (the UID is keyed already)."""
    return hashlib.sha256(uid.encode()).hexdigest()[:8]


def sweep_arrivals(root: Path) -> int:
    """Delete temporaries an interrupted run left under ``root``; returns how many."""
    stale = list(root.rglob(f"{TEMP_PREFIX}*")) if root.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


class Intake:
    """De-identifies datasets with ``key`` and writes them under ``images``; thread-safe."""

    def __init__(self, images: Path, key: bytes) -> None:
        self.images = images
        self._key = key
        self._lock = threading.Lock()
        self._arrived = 0
        self._written = 0
        self._held: list[HeldBack] = []

    @property
    def written(self) -> int:
        return self._written

    @classmethod
    def resume(cls, images: Path, key: bytes) -> Intake:
        """An intake over files an earlier run wrote completely (temporaries swept first)."""
        intake = cls(images, key)
        intake._arrived = intake._written = sum(1 for _ in images.rglob("*.dcm")) if images.is_dir() else 0
        return intake

    def accept(self, ds: Dataset) -> Path | HeldBack:
        """De-identify ``ds`` and write it; what was held back and why, when it cannot be made safe."""
        with self._lock:
            index = self._arrived
            self._arrived += 1
        try:
            with warnings.catch_warnings():  # pydicom's warnings quote values
                warnings.simplefilter("ignore")
                clean = deidentify_dataset(ds, self._key)
        except InputError as error:
            return self.hold(index, str(error))
        except Exception as error:  # one odd object must not stop a study of hundreds
            return self.hold(index, f"unexpected {type(error).__name__} while de-identifying; report this")
        path = self.images / relative_path(clean)
        write_atomically(clean, path)
        with self._lock:
            self._written += 1
        return path

    def hold(self, index: int, reason: str) -> HeldBack:
        """Record arrival ``index`` as not written, with a reason that carries no content."""
        held = HeldBack(index=index, reason=reason)
        with self._lock:
            self._held.append(held)
        return held

    def report(self) -> DeidReport:
        """The case's ``deid.json``: counts and reasons, no identifiers."""
        held = sorted(self._held, key=lambda h: h.index)
        return DeidReport(
            inputs=self._arrived, written=self._written, held_back=held, actions={},
            pixels_checked=0, pixels_masked=0, profile_edition=load_basic_profile().edition,
            key_fingerprint=key_fingerprint(self._key),
        )


def relative_path(clean: Dataset) -> Path:
    """``<patient pseudonym>/<study>/<series>/<instance number>-<instance>.dcm`` from de-identified values."""
    number = clean.get("InstanceNumber")
    instance = short_name(str(clean.SOPInstanceUID))
    name = f"{int(number):05d}-{instance}.dcm" if isinstance(number, int) or str(number or "").isdigit() else f"{instance}.dcm"
    return Path(str(clean.PatientID)) / short_name(str(clean.StudyInstanceUID)) / short_name(str(clean.SeriesInstanceUID)) / name


def write_atomically(ds: Dataset, path: Path) -> None:
    """A hidden temporary beside ``path``, renamed into place: never half a file under its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        with open(tmp, "wb") as fp:
            dcmwrite(fp, ds, enforce_file_format=True)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

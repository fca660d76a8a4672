"""Where arriving instances are de-identified and land: in memory first, then one atomic write.

An :class:`Intake` is shared by every way a study comes in (DICOMweb, C-GET, C-MOVE,
the Storage SCP). It names files only from de-identified values, writes each to a hidden
temporary beside its place and renames it there, and counts what it held back (by reason,
never by content), so its report is fit to publish as the case's ``deid.json``. A Key
Object Selection is not written; the key images it marks (as de-identified UIDs) and its
checked description are kept for the case built from the intake.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

from pydicom import dcmwrite
from pydicom.dataset import Dataset

from readingroom.case import Filled
from readingroom.deid import DeidReport, HeldBack, deidentify_dataset, key_fingerprint, load_basic_profile
from readingroom.errors import InputError
from readingroom.inflow.keyobjects import KeyObjects, all_key_images, described, is_key_object_selection, read_key_objects

TEMP_PREFIX = ".arriving-"
NOT_AN_IMAGE = "not an image (no Pixel Data); reports and other documents are not kept in a teaching case"


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
        self.key_objects: list[KeyObjects] = []

    @property
    def written(self) -> int:
        return self._written

    @classmethod
    def resume(cls, images: Path, key: bytes) -> Intake:
        """An intake over files an earlier run wrote completely (temporaries swept first)."""
        intake = cls(images, key)
        intake._arrived = intake._written = sum(1 for _ in images.rglob("*.dcm")) if images.is_dir() else 0
        return intake

    def accept(self, ds: Dataset) -> Path | HeldBack | KeyObjects:
        """De-identify ``ds`` and write it; what was held back and why, when it cannot be made safe.
        A Key Object Selection is not written: what it marks is kept, for the case built from this."""
        if is_key_object_selection(ds):
            found = read_key_objects(ds, self._key)
            with self._lock:
                self.key_objects.append(found)
            return found
        return self._record(keep(ds, self.images, self._key, self._next_index()))

    def filled(self) -> Filled:
        """What a case built from this intake starts from: held-back count, key images, the KOS description."""
        with self._lock:
            found = described(self.key_objects)
            return Filled(held_back=len(self._held), key_images=all_key_images(self.key_objects),
                          presentation=found.description if found else None)

    def accept_all(self, datasets: Iterable[Dataset], progress: Callable[[int], None] | None = None) -> None:
        """Accept a stream, de-identifying in worker processes (one per core) while the caller's loop
        keeps receiving: a download is then limited by the network, not by this process's one core.
        ``progress(done)`` is called as instances land."""
        workers = os.cpu_count() or 1
        if workers < 2:
            for done, ds in enumerate(datasets, 1):
                self.accept(ds)
                if progress:
                    progress(done)
            return
        done = 0
        with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_init_worker,
                                 initargs=(self.images, self._key)) as pool:
            pending: set = set()
            for ds in datasets:
                if is_key_object_selection(ds):  # small, and what it marks is kept here
                    self.accept(ds)
                    continue
                pending.add(pool.submit(_keep_in_worker, ds, self._next_index()))
                if len(pending) >= _IN_FLIGHT_PER_WORKER * workers:  # bound the memory held by a fast network
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    done += self._record_all(finished)
                    if progress:
                        progress(done)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                done += self._record_all(finished)
                if progress:
                    progress(done)

    def _next_index(self) -> int:
        with self._lock:
            self._arrived += 1
            return self._arrived - 1

    def _record(self, result: Path | HeldBack) -> Path | HeldBack:
        with self._lock:
            if isinstance(result, HeldBack):
                self._held.append(result)
            else:
                self._written += 1
        return result

    def _record_all(self, futures) -> int:
        for future in futures:
            self._record(future.result())  # a write error (a full disk) ends the import here
        return len(futures)

    def report(self) -> DeidReport:
        """The case's ``deid.json``: counts and reasons, no identifiers."""
        held = sorted(self._held, key=lambda h: h.index)
        return DeidReport(
            inputs=self._arrived, written=self._written, held_back=held, actions={}, cleaned_text={},
            pixels_checked=0, pixels_masked=0, profile_edition=load_basic_profile().edition,
            key_fingerprint=key_fingerprint(self._key),
        )


def keep(ds: Dataset, images: Path, key: bytes, index: int) -> Path | HeldBack:
    """The one way an instance is kept: a de-identified copy in memory, then one atomic write."""
    if "PixelData" not in ds:
        return HeldBack(index=index, reason=NOT_AN_IMAGE)
    try:
        with warnings.catch_warnings():  # pydicom's warnings quote values
            warnings.simplefilter("ignore")
            clean = deidentify_dataset(ds, key)
    except InputError as error:
        return HeldBack(index=index, reason=str(error))
    except Exception as error:  # one odd object must not stop a study of hundreds
        return HeldBack(index=index, reason=f"unexpected {type(error).__name__} while de-identifying; report this")
    path = images / relative_path(clean)
    write_atomically(clean, path)
    return path


_worker: tuple[Path, bytes] | None = None
_IN_FLIGHT_PER_WORKER = 4


def _init_worker(images: Path, key: bytes) -> None:
    global _worker
    _worker = (images, key)


def _keep_in_worker(ds: Dataset, index: int) -> Path | HeldBack:
    return keep(ds, *_worker, index)


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

"""`readingroom receive`: the "send to teaching file" destination, a DICOM Storage SCP.

Each instance is de-identified in memory on arrival and written atomically under
``<inbox>/.incoming/<study>.<batch>/``, where ``<study>`` is a short name of the study's
keyed UID. A study that has been quiet for ``quiet_s`` seconds becomes a draft case,
``<inbox>/<study>/``, built by :func:`readingroom.case.build_case` like any case. A Key
Object Selection document sent with it marks the key images and pre-fills the title and
notes; its checked marks are written beside the batch before it is acknowledged, so a restart keeps them. Log lines name studies by their short pseudonymous names only.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset

from readingroom.case import Filled, build_case
from readingroom.case.check import IMAGES
from readingroom.deid import HeldBack, keyed_uid
from readingroom.errors import ReadingroomError
from readingroom.inflow.drafts import DRAFT_FILE, Draft
from readingroom.inflow.importing import write_report
from readingroom.inflow.intake import Intake, short_name, sweep_arrivals
from readingroom.inflow.keyobjects import KeyObjects, all_key_images, described, is_key_object_selection
from readingroom.inflow.storage import OUT_OF_RESOURCES, REFUSED, STORED, os_reason, quiet_pynetdicom, storage_ae, storage_handler

INCOMING = ".incoming"
KEY_OBJECTS = "key-objects.json"  # a batch's checked KOS marks (de-identified UIDs), so a restart keeps them
DEFAULT_QUIET_S = 30.0
log = logging.getLogger("readingroom.inflow")


@dataclass
class _Batch:
    """What has arrived for one study since its last draft."""

    study: str
    folder: Path
    intake: Intake
    last: float


class Receiver:
    """The Storage SCP's state: open batches by study, and the quiet timer that drafts them."""

    def __init__(self, inbox: Path, key: bytes, *, quiet_s: float = DEFAULT_QUIET_S, clock=time.monotonic) -> None:
        self.inbox = inbox
        self._key = key
        self._quiet_s = quiet_s
        self._clock = clock
        self._lock = threading.Lock()
        self._batches: dict[str, _Batch] = {}
        self._stop = threading.Event()

    # -- arrivals, on pynetdicom's association threads --------------------------------

    def store(self, ds: Dataset) -> int:
        """C-STORE: de-identify and keep ``ds``, or refuse it with a status and a log line."""
        study_uid = str(ds.get("StudyInstanceUID", "")).strip()
        if not study_uid or not ds.get("SOPInstanceUID") or not ds.get("SOPClassUID"):
            log.warning("refused an object without Study/SOP Instance UID or SOP Class (status 0x%04X)", REFUSED)
            return REFUSED
        batch = self._batch(short_name(keyed_uid(self._key, study_uid)))
        if "PixelData" not in ds and not is_key_object_selection(ds):  # a report: it names the patient, teaches nothing
            log.info("study %s: a non-image object was received and not kept", batch.study)
            return STORED
        try:
            kept = batch.intake.accept(ds)
        except OSError as error:  # a full or read-only disk: the sender keeps the object and may retry
            log.error("study %s: cannot write (%s); status 0x%04X", batch.study, os_reason(error), OUT_OF_RESOURCES)
            return OUT_OF_RESOURCES
        if isinstance(kept, HeldBack):
            log.warning("study %s: refused an object (status 0x%04X): %s", batch.study, REFUSED, kept.reason)
            return REFUSED
        if isinstance(kept, KeyObjects):
            try:
                self._keep_marks(batch)
            except OSError as error:
                log.error("study %s: cannot write (%s); status 0x%04X", batch.study, os_reason(error), OUT_OF_RESOURCES)
                return OUT_OF_RESOURCES
            note = f", its description withheld (possible {kept.withheld})" if kept.withheld else ""
            log.info("study %s: key object selection with %d key image(s)%s", batch.study, len(kept.key_images), note)
        with self._lock:
            batch.last = self._clock()
        return STORED

    def _keep_marks(self, batch: _Batch) -> None:
        """Write the batch's key object marks beside its images (whole or not at all) before the KOS is acknowledged."""
        marks = batch.folder / KEY_OBJECTS
        tmp = marks.with_name(f".{KEY_OBJECTS}.partial")
        with self._lock:  # two KOS of one study on two associations: the later file holds both
            marks.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps([k.to_json() for k in batch.intake.key_objects]))
            os.replace(tmp, marks)

    def _batch(self, study: str) -> _Batch:
        with self._lock:
            batch = self._batches.get(study)
            if batch is None:
                folder = self.inbox / INCOMING / f"{study}.{secrets.token_hex(4)}"
                batch = _Batch(study, folder, Intake(folder / IMAGES, self._key), self._clock())
                self._batches[study] = batch
                log.info("study %s: arriving", study)
            return batch

    # -- the quiet timer -------------------------------------------------------------

    def draft_quiet_studies(self) -> list[Path]:
        """Draft every study quiet for the quiet time; returns the drafts made."""
        now = self._clock()
        with self._lock:
            quiet = [b for b in self._batches.values() if now - b.last >= self._quiet_s]
            for batch in quiet:
                del self._batches[batch.study]
        return [made for made in map(self._draft, quiet) if made]

    def run_timer(self) -> None:
        """Check for quiet studies until :meth:`stop`; runs on its own thread."""
        while not self._stop.wait(min(1.0, self._quiet_s / 4)):
            self.draft_quiet_studies()

    def stop(self) -> None:
        self._stop.set()

    def _draft(self, batch: _Batch) -> Path | None:
        found = described(batch.intake.key_objects)
        title = (found.title if found else None) or f"Teaching file {batch.study}"
        name = _free_name(self.inbox, batch.study)
        key_images = all_key_images(batch.intake.key_objects)

        def fill(building: Path) -> Filled:  # links, not moves: a crash while drafting leaves the batch whole
            shutil.copytree(batch.folder / IMAGES, building / IMAGES, copy_function=os.link)
            filled = write_report(batch.intake, building)
            draft = Draft(name=name, title=title, notes=filled.presentation, images=batch.intake.written,
                          key_images=sorted(filled.key_images), received=time.time())
            (building / DRAFT_FILE).write_text(json.dumps(draft.to_json(), indent=2) + "\n")
            return filled

        try:
            build_case(title, self.inbox, fill, name=name)
        except ReadingroomError as error:
            log.warning("study %s: no draft made: %s", batch.study, error)
            return None
        finally:
            shutil.rmtree(batch.folder, ignore_errors=True)
        log.info("study %s: draft %s made (%d image(s), %d key image(s))", batch.study, name, batch.intake.written, len(key_images))
        return self.inbox / name

    # -- start-up ------------------------------------------------------------------------

    def recover(self) -> None:
        """After a crash: drop half-written files and half-built drafts, and resume the batches received."""
        swept = sweep_arrivals(self.inbox)
        for stale in (self.inbox / INCOMING).glob(f"*/.{KEY_OBJECTS}.partial"):
            stale.unlink()
            swept += 1
        for building in self.inbox.glob(".*.partial"):
            shutil.rmtree(building, ignore_errors=True)
            swept += 1
        if swept:
            log.info("removed %d unfinished arrival(s) or draft(s) left by an interrupted run", swept)
        incoming = self.inbox / INCOMING
        for folder in sorted(incoming.iterdir()) if incoming.is_dir() else []:
            study = folder.name.partition(".")[0]
            intake = Intake.resume(folder / IMAGES, self._key)
            marks = folder / KEY_OBJECTS
            if marks.is_file():
                intake.key_objects.extend(KeyObjects.from_json(k) for k in json.loads(marks.read_text()))
            with self._lock:  # one batch per study and run, so a study has at most one folder here
                self._batches[study] = _Batch(study, folder, intake, self._clock())
            log.info("study %s: resuming %d image(s) received before a restart", study, intake.written)


def _free_name(inbox: Path, study: str) -> str:
    """``<study>``, or ``<study>-2`` ... when that study was drafted before (sent again later)."""
    name, n = study, 1
    while (inbox / name).exists():
        n += 1
        name = f"{study}-{n}"
    return name


def serve(inbox: Path, key: bytes, *, aet: str, port: int, host: str = "", quiet_s: float = DEFAULT_QUIET_S) -> None:
    """Run the Storage SCP until interrupted; drafts appear as studies go quiet."""
    from pynetdicom import evt

    quiet_pynetdicom()
    inbox.mkdir(parents=True, exist_ok=True)
    receiver = Receiver(inbox, key, quiet_s=quiet_s)
    receiver.recover()
    ae = storage_ae(aet)
    server = ae.start_server((host, port), block=False, evt_handlers=[(evt.EVT_C_STORE, storage_handler(receiver.store))])
    log.info("listening as %s on port %d; drafts go to %s after %g s of quiet", aet, port, inbox, quiet_s)
    try:
        receiver.run_timer()
    finally:
        receiver.stop()
        server.shutdown()
        receiver.draft_quiet_studies()

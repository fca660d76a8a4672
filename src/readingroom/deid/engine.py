"""A de-identification run: sources in, de-identified files and a PHI-free report out.

Files are shared out over worker processes (one per core) in two passes. The first reads
every header (no pixels) and gathers each patient's identifying values, so that a
description kept in one file is cleaned of a name or place that only another file of the
same patient carries. The second de-identifies. Every keyed value depends only on the key
and the file, so workers need not talk to each other and two runs with one key agree.
"""

from __future__ import annotations

import copy
import ctypes
import os
import signal
import struct
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from readingroom.deid.actions import CODE_MEANINGS, Action
from readingroom.deid.burnedin import clean_burned_in_text, pixel_check_reason
from readingroom.deid.dataset import METHOD, PRIVATE, DatasetDeidentifier
from readingroom.deid.gate import find_leaks
from readingroom.deid.keyfile import default_key_path, key_fingerprint, load_or_create_key
from readingroom.deid.profile import BasicProfile, load_basic_profile
from readingroom.deid.pseudonyms import patient_identity
from readingroom.deid.textscan import PhiValues
from readingroom.deid.writer import (
    REPORT_NAME,
    destination_lock,
    output_relpath,
    sweep_temporaries,
    write_dataset,
    write_report,
)
from readingroom.dicom.sources import SourceFile, list_source_files
from readingroom.errors import InputError, LimitError

NOT_DICOM = "not a DICOM file (no DICM header); remove it from the source if it is not an image"
_PARALLEL_MIN_FILES = 16
_CHUNK = 8


@dataclass(frozen=True)
class HeldBack:
    """An input not written: its index in ``list_source_files(SRC)`` and why (no PHI)."""

    index: int
    reason: str


@dataclass
class FileResult:
    index: int
    written: str | None = None
    reason: str | None = None
    counts: Counter = field(default_factory=Counter)
    cleaned: Counter = field(default_factory=Counter)
    pixels_checked: bool = False
    pixels_masked: bool = False


@dataclass
class DeidReport:
    """What a run did, fit to publish: counts, actions per attribute, held-back inputs."""

    inputs: int
    written: int
    held_back: list[HeldBack]
    actions: dict[str, dict[str, int]]
    cleaned_text: dict[str, dict[str, int]]
    pixels_checked: int
    pixels_masked: int
    profile_edition: str
    key_fingerprint: str
    files: list[dict] = field(default_factory=list)  # {"index": input index, "path": output path}

    def to_json(self) -> dict:
        return {
            "tool": "readingroom deid",
            "profile": f"DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile, Table E.1-1 ({self.profile_edition})",
            "options": list(METHOD[1:]) + ["Clean Pixel Data (burned-in text, where checked)"],
            "codes": [{"CodeValue": c.value, "CodingSchemeDesignator": "DCM", "CodeMeaning": m} for c, m in CODE_MEANINGS.items()],
            "key_fingerprint": self.key_fingerprint,
            "counts": {
                "inputs": self.inputs,
                "written": self.written,
                "held_back": len(self.held_back),
                "pixels_checked": self.pixels_checked,
                "pixels_masked": self.pixels_masked,
            },
            "actions": self.actions,
            "cleaned_text": self.cleaned_text,
            "held_back": [{"index": h.index, "reason": h.reason} for h in self.held_back],
            "files": self.files,
        }


def deidentify(
    source: str | os.PathLike,
    dest: str | os.PathLike,
    *,
    key_path: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DeidReport:
    """De-identify every file of ``source`` (file, folder, zip or DICOMDIR) into ``dest``.

    Raises :class:`InputError` for unusable input before anything is written. Files that
    cannot be made safe are held back and listed in the report; ``progress(done, total)``
    is called as files finish.
    """
    source, dest = Path(source), Path(dest)
    files = list_source_files(source)
    if not files:
        raise InputError(f"{source}: no files to de-identify; give a DICOM file, folder, zip or DICOMDIR")
    if dest.exists() and not dest.is_dir():
        raise InputError(f"{dest}: exists and is not a folder; give a folder for -o")
    if source.is_dir() and dest.absolute().is_relative_to(source.absolute()):
        raise InputError(f"{dest}: the output folder is inside the source {source}; choose -o outside it")
    key = load_or_create_key(key_path or default_key_path(), forbidden=(source, dest) if source.is_dir() else (dest,))
    profile = load_basic_profile()
    with destination_lock(dest):
        # A report describes the run that wrote it: the last run's goes before this one writes,
        # so a run that is killed leaves no report that promises files it did not write.
        (dest / REPORT_NAME).unlink(missing_ok=True)
        sweep_temporaries(dest)
        return _run_and_report(files, source, dest, key, profile, workers, progress)


def _run_and_report(files: list[SourceFile], source: Path, dest: Path, key: bytes, profile: BasicProfile,
                    workers: int | None, progress) -> DeidReport:
    results = _run(files, dest, key, workers if workers is not None else (os.cpu_count() or 1), progress)
    held = [HeldBack(r.index, r.reason) for r in results if r.reason]
    if len(held) == len(files) and all(h.reason == NOT_DICOM for h in held):
        raise InputError(f"{source}: no DICOM files found (none has a DICOM header); check the path")
    report = DeidReport(
        inputs=len(files),
        written=sum(1 for r in results if r.written),
        held_back=held,
        actions=_table(results, "counts", lambda action: Action(action).value),
        cleaned_text=_table(results, "cleaned", str),
        pixels_checked=sum(r.pixels_checked for r in results),
        pixels_masked=sum(r.pixels_masked for r in results),
        profile_edition=profile.edition,
        key_fingerprint=key_fingerprint(key),
        files=[{"index": r.index, "path": r.written} for r in results if r.written],
    )
    write_report(report.to_json(), dest / REPORT_NAME)
    return report


def deidentify_dataset(ds: Dataset, key: bytes, *, check_pixels: bool = True) -> Dataset:
    """A de-identified copy of ``ds`` (``ds`` itself is not changed).

    Raises :class:`InputError` when the copy cannot be made safe (burned-in text that
    remains, or a header value that survived), naming the reason.
    """
    out = copy.deepcopy(ds)
    result = FileResult(index=0)
    _deidentify_in_place(out, DatasetDeidentifier(key, load_basic_profile()), result, check_pixels)
    if result.reason:
        raise InputError(f"dataset held back: {result.reason}")
    return out


# -- the per-file work, run in this process or in workers ------------------------------

_worker: tuple[DatasetDeidentifier, Path] | None = None
_PARENT_POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _init_worker(key: bytes, dest: Path, parent: int | None = None) -> None:
    """Set up this process for a run; in a worker (``parent`` given), also make it die with the
    parent, as a killed run must not go on writing into its destination."""
    global _worker
    _worker = (DatasetDeidentifier(key, load_basic_profile()), dest)
    if parent is not None:
        _die_with(parent)


def _die_with(parent: int) -> None:
    """Linux: the kernel sends SIGKILL the moment the parent dies (prctl PR_SET_PDEATHSIG).
    Elsewhere a thread polls for the parent. Either way, a parent already gone ends us now."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_SECONDS)
    os._exit(1)


def _run(files: list[SourceFile], dest: Path, key: bytes, workers: int, progress) -> list[FileResult]:
    jobs = list(enumerate(files))
    if workers <= 1 or len(files) < _PARALLEL_MIN_FILES:
        _init_worker(key, dest)
        patients = _patients_phi([_collect(job) for job in jobs])
        results = []
        for index, source in jobs:
            results.append(_process((index, source, patients.get(index))))
            if progress:
                progress(len(results), len(jobs))
        return results
    chunks = [jobs[i: i + _CHUNK] for i in range(0, len(jobs), _CHUNK)]
    results = []
    with ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_init_worker,
                             initargs=(key, dest, os.getpid())) as pool:
        patients = _patients_phi([c for collected in pool.map(_collect_chunk, chunks) for c in collected])
        with_phi = [[(index, source, patients.get(index)) for index, source in chunk] for chunk in chunks]
        for chunk_results in pool.map(_process_chunk, with_phi):
            results.extend(chunk_results)
            if progress:
                progress(len(results), len(jobs))
    return results


def _collect_chunk(chunk: list[tuple[int, SourceFile]]) -> list[tuple[int, str, PhiValues] | None]:
    return [_collect(job) for job in chunk]


def _collect(job: tuple[int, SourceFile]) -> tuple[int, str, PhiValues] | None:
    """(index, patient identity, identifying values) from a file's header; None when it cannot be
    read (the second pass says why). The identity stays in memory, as the values do."""
    index, source = job
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with source.open() as fp:
                ds = dcmread(fp, stop_before_pixels=True)
            return index, patient_identity(ds), PhiValues.from_datasets([ds])
        except Exception:  # noqa: BLE001 - unreadable here is reported by the second pass
            return None


def _patients_phi(collected: list[tuple[int, str, PhiValues] | None]) -> dict[int, PhiValues]:
    """For each file index, the identifying values of every file of its patient."""
    by_patient: dict[str, list[tuple[int, PhiValues]]] = {}
    for entry in filter(None, collected):
        index, identity, phi = entry
        by_patient.setdefault(identity, []).append((index, phi))
    patients = {}
    for members in by_patient.values():
        merged = PhiValues.union(phi for _, phi in members)
        patients.update((index, merged) for index, _ in members)
    return patients


def _process_chunk(chunk: list[tuple[int, SourceFile, PhiValues | None]]) -> list[FileResult]:
    return [_process(job) for job in chunk]


def _process(job: tuple[int, SourceFile, PhiValues | None]) -> FileResult:
    """One input to one output, or a held-back reason; pydicom's warnings quoted values, so they are muted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _process_file(*job)
        except Exception as error:  # one odd file must not stop a run of thousands
            return FileResult(index=job[0], reason=f"unexpected {type(error).__name__} while de-identifying; report this")


def _process_file(index: int, source: SourceFile, patient_phi: PhiValues | None) -> FileResult:
    deidentifier, dest = _worker
    result = FileResult(index=index)
    try:
        with source.open() as fp:
            ds = dcmread(fp)
    except InvalidDicomError:
        result.reason = NOT_DICOM
        return result
    except LimitError as error:
        result.reason = error.reason
        return result
    except InputError:  # what opening reports besides limits: a damaged archive member
        result.reason = "damaged archive member; re-create the zip"
        return result
    except OSError as error:
        result.reason = f"cannot read the file ({type(error).__name__})"
        return result
    except (EOFError, struct.error, ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        result.reason = f"damaged DICOM file ({type(error).__name__}); re-export it"
        return result
    missing = [f"{tag} {kw}" for tag, kw in (("(0008,0016)", "SOPClassUID"), ("(0008,0018)", "SOPInstanceUID")) if not ds.get(kw)]
    if missing:
        result.reason = f"lacks {' and '.join(missing)}, so it cannot be written as a DICOM file; re-export it"
        return result
    names = deidentifier.pseudonyms
    study = names.short_name("study", str(ds.get("StudyInstanceUID", "")))
    series = names.short_name("series", str(ds.get("SeriesInstanceUID", "")))
    instance = names.short_name("instance", str(ds.get("SOPInstanceUID", "")) or f"input-{index}")
    number = _int(ds.get("InstanceNumber"))
    _deidentify_in_place(ds, deidentifier, result, check_pixels=True, patient_phi=patient_phi)
    if result.reason:
        return result
    relpath = output_relpath(ds.PatientID, study, series, number, instance)
    try:
        write_dataset(ds, dest / relpath)
    except (ValueError, TypeError, AttributeError, struct.error) as error:  # pydicom cannot encode it
        result.reason = f"cannot be encoded after de-identification ({type(error).__name__}); report this"
        return result
    result.written = relpath.as_posix()
    return result


def _deidentify_in_place(ds: Dataset, deidentifier: DatasetDeidentifier, result: FileResult, check_pixels: bool,
                         patient_phi: PhiValues | None = None) -> None:
    ctx = deidentifier.context_for(ds, patient_phi)
    cleaned = False
    if check_pixels and "PixelData" in ds and pixel_check_reason(ds):
        outcome = clean_burned_in_text(ds)
        result.pixels_checked = outcome.checked
        result.pixels_masked = bool(outcome.masked_words or outcome.masked_outside_regions)
        if outcome.held_reason:
            result.reason = f"{pixel_check_reason(ds)}: {outcome.held_reason}"
            return
        cleaned = True
    deidentifier.apply(ds, ctx, pixels_cleaned=cleaned)
    result.counts, result.cleaned = ctx.counts, ctx.cleaned
    leaks = find_leaks(ds, ctx.phi)
    if leaks:
        tags = ", ".join(f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in sorted(set(leaks)))
        result.reason = f"a source header value survived in {tags}; report this"


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _table(results: list[FileResult], counter: str, column) -> dict[str, dict[str, int]]:
    """Totals of one per-file counter keyed (tag, what) as {"(gggg,eeee) Keyword": {what: n}}."""
    totals: Counter = Counter()
    for r in results:
        totals.update(getattr(r, counter))
    table: dict[str, dict[str, int]] = {}
    for (tag, what), count in sorted(totals.items(), key=lambda kv: (kv[0][0], column(kv[0][1]))):
        name = "private attributes" if tag == PRIVATE else f"({tag >> 16:04X},{tag & 0xFFFF:04X}) {keyword_for_tag(tag) or 'unknown'}"
        table.setdefault(name, {})[column(what)] = count
    return table

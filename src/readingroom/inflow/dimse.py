"""DIMSE: C-FIND to count, C-GET to fetch, C-MOVE to our own listener when C-GET is refused.

Instances arrive as C-STORE sub-operations and go straight to an
:class:`~readingroom.inflow.intake.Intake`, so an identified dataset never leaves memory.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from readingroom.deid import HeldBack
from readingroom.errors import InputError, RemoteError
from readingroom.inflow.intake import Intake
from readingroom.inflow.locations import DimseStudy
from readingroom.inflow.storage import (
    OUT_OF_RESOURCES,
    REFUSED,
    STORAGE_CLASSES,
    STORED,
    TRANSFER_SYNTAXES,
    os_reason,
    quiet_pynetdicom,
    storage_ae,
    storage_handler,
)

DEFAULT_CALLING_AET = "READINGROOM"
TIMEOUT_S = 30
_PENDING = (0xFF00, 0xFF01)
_SUCCESS = (0x0000, 0xB000)  # B000: some sub-operations failed; the intake's report says which
_REFUSED_GET = (0x0122, 0x0124, 0xA701, 0xA702, 0xC000, 0xC001)  # not supported, not authorised, refused
_UNKNOWN_DESTINATION = 0xA801

Progress = Callable[[int, int], None]


def fetch_dimse(study: DimseStudy, intake: Intake, *, calling_aet: str = DEFAULT_CALLING_AET,
                move_port: int | None = None, progress: Progress | None = None) -> None:
    """Bring ``study`` into ``intake`` by C-GET; by C-MOVE to a listener on ``move_port`` if C-GET is refused."""
    quiet_pynetdicom()
    _check_reachable(study)
    store = _Store(intake, _count(study, calling_aet), progress)
    status = _get(study, calling_aet, store)
    if status in _REFUSED_GET and store.done == 0:
        if move_port is None:
            raise RemoteError(f"{study.where} refused C-GET (status 0x{status:04X}); pass --move-port so it can C-MOVE "
                              f"the study to this machine as AE {calling_aet}, which the PACS must know")
        status = _move(study, calling_aet, move_port, store)
        if status == _UNKNOWN_DESTINATION:
            raise RemoteError(f"{study.where} does not know AE {calling_aet} as a C-MOVE destination; ask its "
                              f"administrator to add {calling_aet} at this machine, port {move_port}")
    if store.write_error:
        raise InputError(f"cannot write the images ({store.write_error}); free some disk space or choose another --cases")
    if status not in _SUCCESS:
        raise RemoteError(f"{study.where} stopped the transfer with status 0x{status:04X}; check the PACS's log")


class _Store:
    """Sub-operations into the intake, counted for the progress bar (pynetdicom calls from its threads)."""

    def __init__(self, intake: Intake, total: int, progress: Progress | None) -> None:
        self.intake, self.total, self.done, self._progress = intake, total, 0, progress
        self.write_error: str | None = None
        self._lock = threading.Lock()

    def __call__(self, ds) -> int:
        try:
            stored = not isinstance(self.intake.accept(ds), HeldBack)
        except OSError as error:  # a full disk: the transfer fails as a whole, below
            self.write_error = os_reason(error)
            return OUT_OF_RESOURCES
        with self._lock:
            self.done += 1
            done = self.done
        if self._progress:
            self._progress(done, max(self.total, done))
        return STORED if stored else REFUSED


def _check_reachable(study: DimseStudy) -> None:
    """Tell an unreachable host from a refusal: pynetdicom reports both as an aborted association."""
    try:
        socket.create_connection((study.host, study.port), timeout=TIMEOUT_S).close()
    except OSError as error:
        raise RemoteError(f"cannot reach {study.host}:{study.port} ({error.strerror or type(error).__name__}); "
                          "check the host, the port and that the PACS is running") from None


def _open(study: DimseStudy, calling_aet: str, context: str, *, storage: _Store | None = None):
    """An association proposing ``context`` (and, to receive C-GET's sub-operations, storage as SCP)."""
    from pynetdicom import AE, build_role, evt

    ae = AE(ae_title=calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = TIMEOUT_S
    ae.add_requested_context(context)
    kwargs = {}
    if storage is not None:
        for sop_class in STORAGE_CLASSES:
            ae.add_requested_context(sop_class, TRANSFER_SYNTAXES)
        kwargs = {"ext_neg": [build_role(c, scp_role=True) for c in STORAGE_CLASSES],
                  "evt_handlers": [(evt.EVT_C_STORE, storage_handler(storage))]}
    assoc = ae.associate(study.host, study.port, ae_title=study.aet, **kwargs)
    if assoc.is_established:
        return assoc
    how = "rejected it" if assoc.is_rejected else "aborted it"  # a PACS may do either for an unknown AE title
    raise RemoteError(f"{study.where} refused the association ({how}); check the PACS's AE title ({study.aet}) and "
                      f"that it accepts calling AE title {calling_aet}")


def _query(study: DimseStudy, *counts: str):
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES" if study.series else "STUDY"
    ds.StudyInstanceUID = study.study
    if study.series:
        ds.SeriesInstanceUID = study.series
    for keyword in counts:
        setattr(ds, keyword, "")
    return ds


def _count(study: DimseStudy, calling_aet: str) -> int:
    """How many instances the PACS holds (C-FIND); an unknown study or series fails here."""
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as Find

    field = "NumberOfSeriesRelatedInstances" if study.series else "NumberOfStudyRelatedInstances"
    assoc = _open(study, calling_aet, Find)
    found = []
    try:
        for status, identifier in assoc.send_c_find(_query(study, field), Find):
            if status and status.Status in _PENDING and identifier is not None:
                found.append(int(identifier.get(field) or 0))
    finally:
        assoc.release()
    if not found:
        raise InputError(f"{study.where} has no such {'series' if study.series else 'study'}; check the UID in --from")
    return sum(found)


def _final_status(responses) -> int:
    status = REFUSED
    for response, _identifier in responses:
        if response and "Status" in response:
            status = response.Status
    return status


def _get(study: DimseStudy, calling_aet: str, store: _Store) -> int:
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet as Get

    assoc = _open(study, calling_aet, Get, storage=store)
    try:
        return _final_status(assoc.send_c_get(_query(study), Get))
    finally:
        assoc.release()


def _move(study: DimseStudy, calling_aet: str, port: int, store: _Store) -> int:
    """C-MOVE to ourselves: a listener with our AE title takes the sub-operations meanwhile."""
    from pynetdicom import evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove as Move

    listener = storage_ae(calling_aet).start_server(("", port), block=False,
                                                    evt_handlers=[(evt.EVT_C_STORE, storage_handler(store))])
    try:
        assoc = _open(study, calling_aet, Move)
        try:
            return _final_status(assoc.send_c_move(_query(study), calling_aet, Move))
        finally:
            assoc.release()
    finally:
        listener.shutdown()

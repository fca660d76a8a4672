"""C-STORE in one place: which SOP classes and transfer syntaxes we take, and how a
stored object is answered, for C-GET and C-MOVE sub-operations and for `receive`.

Statuses follow PS3.4 Annex B: 0x0000 stored, 0xC000 refused (cannot understand:
not decodable, or not safe to keep after de-identification), 0xA700 out of resources.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from pydicom.dataset import Dataset

STORED, REFUSED, OUT_OF_RESOURCES = 0x0000, 0xC000, 0xA700

log = logging.getLogger("readingroom.inflow")

# Lossless and the lossy syntaxes a PACS commonly holds; we keep what arrives as it came.
TRANSFER_SYNTAXES = [
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80",  # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
]

# What a teaching file is made of: the cross-sectional, projection and ultrasound images,
# secondary captures, and the Key Object Selection that marks key images. A C-GET
# proposes each with the SCP role, and an association holds at most 128 contexts.
STORAGE_CLASSES = [
    "1.2.840.10008.5.1.4.1.1.2",  # CT
    "1.2.840.10008.5.1.4.1.1.2.1",  # Enhanced CT
    "1.2.840.10008.5.1.4.1.1.4",  # MR
    "1.2.840.10008.5.1.4.1.1.4.1",  # Enhanced MR
    "1.2.840.10008.5.1.4.1.1.1",  # CR
    "1.2.840.10008.5.1.4.1.1.1.1",  # DX for presentation
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # DX for processing
    "1.2.840.10008.5.1.4.1.1.1.2",  # Mammography for presentation
    "1.2.840.10008.5.1.4.1.1.6.1",  # Ultrasound
    "1.2.840.10008.5.1.4.1.1.3.1",  # Ultrasound multi-frame
    "1.2.840.10008.5.1.4.1.1.12.1",  # X-ray angiographic
    "1.2.840.10008.5.1.4.1.1.12.2",  # X-ray radiofluoroscopic
    "1.2.840.10008.5.1.4.1.1.20",  # Nuclear medicine
    "1.2.840.10008.5.1.4.1.1.128",  # PET
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary capture
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame grayscale byte SC
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame grayscale word SC
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame true colour SC
    "1.2.840.10008.5.1.4.1.1.88.59",  # Key Object Selection
]


def os_reason(error: BaseException) -> str:
    """``No space left on device``: the system's words for a failed write (pydicom wraps the OSError)."""
    cause: BaseException | None = error
    while cause is not None and not getattr(cause, "errno", None):
        cause = cause.__cause__ or cause.__context__
    return os.strerror(cause.errno) if cause is not None else type(error).__name__


def quiet_pynetdicom() -> None:
    """pynetdicom logs C-FIND identifiers by default: they are a patient's, so never."""
    from pynetdicom import _config

    _config.LOG_HANDLER_LEVEL = "none"
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)


def storage_handler(accept: Callable[[Dataset], int]) -> Callable:
    """An EVT_C_STORE handler passing the decoded dataset (with its file meta) to ``accept``."""

    def handle(event) -> int:
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
        except Exception as error:  # a malformed stream: refuse it, say so without content
            log.warning("refused an object that could not be decoded (%s)", type(error).__name__)
            return REFUSED
        return accept(ds)

    return handle


def storage_ae(aet: str):
    """An AE that accepts every storage SOP class pynetdicom knows, in every transfer syntax."""
    from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, AllStoragePresentationContexts

    ae = AE(ae_title=aet)
    for context in AllStoragePresentationContexts:
        ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
    return ae

"""Errors whose message is fit to show a user: what is wrong, where, and how to fix it.

The CLI prints ``str(error)`` as one line and exits with ``exit_code``; anything
else that escapes is a bug and shows a traceback only under ``--debug``.
"""


class ReadingroomError(Exception):
    """Base for errors a user can act on."""

    exit_code = 2


class InputError(ReadingroomError):
    """The input (a path, an option, a file's content) is unusable as given."""


class NotAnImageError(InputError):
    """A DICOM object without pixel data (SR, RT plan, waveform ...)."""


class DecodeError(InputError):
    """Pixel data that cannot be decoded (truncated, or a codec we lack)."""


class LimitError(InputError):
    """An input beyond a configured limit (file size, archive inflation); ``reason`` names no file."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {reason}")
        self.reason = reason


class RemoteError(ReadingroomError):
    """A PACS or DICOMweb server that cannot be reached, refuses us, or fails a transfer."""

"""The records store's errors: each one line fit to show a user (the CLI prints it as is).

They are :class:`readingroom.errors.InputError` subclasses, so the CLI and the pages turn
them into one line and an exit code without knowing the store, and no caller strips a prefix.
"""

from __future__ import annotations

from readingroom.errors import InputError


class RecordsError(InputError):
    """A value the records store refuses (an empty name, a naive timestamp, a taken username ...)."""


class NotFoundError(RecordsError, LookupError):
    """A participant or session id that is not in the store."""


class StoreBehindError(RecordsError):
    """The store's schema is older than this version of readingroom: ``readingroom records upgrade`` migrates it."""


class StoreUnavailableError(RecordsError):
    """The records store cannot be reached (PostgreSQL down, the disk full): a write is kept in the journal."""


class JournalError(RecordsError):
    """The local journal cannot be written (a full disk, a read-only folder): nothing was acknowledged."""

"""Local-account passwords hashed with Argon2id (argon2-cffi), never stored in clear."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import RecordsError

_HASHER = PasswordHasher()  # stateless; RFC 9106 low-memory defaults
_DUMMY_HASH = _HASHER.hash("readingroom: no such account")


def hash_password(password: str) -> str:
    if not password:
        raise RecordsError("a local account needs a non-empty password")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nobody(password: str) -> None:
    """Spend the time a real check takes, for a username that does not exist.

    Without it an unknown username answers faster than a wrong password, which tells an
    attacker which usernames exist.
    """
    verify_password(_DUMMY_HASH, password)


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters than today's defaults."""
    return _HASHER.check_needs_rehash(stored_hash)

"""Keyed, one-way UID remapping: same key and UID in, same valid UID out, in any file or run.

Output UIDs are ``2.25.<integer>`` where the integer is a UUID built from an HMAC of the
input (RFC 9562 version 8, "custom"), which is what the 2.25 root (ISO/IEC 9834-8) asks
for. They are at most 44 characters and, being an integer's decimal form, have no
leading zeros. Without the key the mapping can be neither reversed nor recomputed.
"""

from __future__ import annotations

import hashlib
import hmac

UID_ROOT = "2.25"
MAX_UID_LENGTH = 64
_CACHE_LIMIT = 65536


class UidMapper:
    """Maps instance UIDs; remembers what it mapped so a run does each UID once."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        uid = str(uid).strip().rstrip("\x00")
        mapped = self._cache.get(uid)
        if mapped is None:
            if len(self._cache) >= _CACHE_LIMIT:  # a run's UIDs repeat within a series; bound the memory
                self._cache.clear()
            mapped = self._cache[uid] = keyed_uid(self._key, uid)
        return mapped


def keyed_uid(key: bytes, uid: str) -> str:
    """The UID that ``uid`` becomes under ``key``."""
    digest = bytearray(hmac.new(key, b"uid:" + uid.encode("ascii", "replace"), hashlib.sha256).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 9562 variant
    return f"{UID_ROOT}.{int.from_bytes(digest, 'big')}"

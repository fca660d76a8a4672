"""The secret key behind every pseudonym, UID and date shift.

Same key, same output: that is what keeps a patient's studies linked across runs. The
key lives outside any project (it must never be committed next to the cases it protects),
is created on first use with owner-only permissions, and a key anyone else can read is
refused rather than trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from readingroom.errors import InputError

KEY_BYTES = 32
_PROJECT_MARKERS = (".git", "pyproject.toml", "readingroom.toml")


def default_key_path() -> Path:
    """``$XDG_CONFIG_HOME/readingroom/deid.key`` (``~/.config/...`` by default)."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "readingroom" / "deid.key"


def load_or_create_key(path: str | os.PathLike, *, forbidden: tuple[Path, ...] = ()) -> bytes:
    """Read the key at ``path``, creating it (mode 0600) when missing.

    ``forbidden`` lists folders the key must not be inside (the source and destination).
    """
    path = Path(path).expanduser().absolute()
    _check_location(path, forbidden)
    if not path.exists():
        _create(path)
    return _read(path)


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible name for the key, safe to put in reports."""
    return hmac.new(key, b"readingroom-key-fingerprint", hashlib.sha256).hexdigest()[:12]


def _check_location(path: Path, forbidden: tuple[Path, ...]) -> None:
    for folder in forbidden:
        folder = Path(folder).absolute()
        if path.is_relative_to(folder):
            raise InputError(
                f"{path}: the key must not be inside {folder}; keep it outside the data, "
                f"e.g. --key {default_key_path()}"
            )
    for parent in path.parents:
        marker = next((m for m in _PROJECT_MARKERS if (parent / m).exists()), None)
        if marker:
            raise InputError(
                f"{path}: the key must not be inside a project ({parent} has {marker}), where it "
                f"could be committed; use a path outside it, e.g. --key {default_key_path()}"
            )


def _create(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run created it first: use theirs
        return
    except OSError as error:
        raise InputError(f"{path}: cannot create the key file ({error.strerror}); choose a writable --key path") from None
    with os.fdopen(fd, "w") as fp:
        fp.write(secrets.token_hex(KEY_BYTES) + "\n")


def _read(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text key file"
        raise InputError(f"{path}: cannot read the key file ({reason}); fix its permissions or give another --key") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"{path}: the key file is readable by others; run `chmod 600 {path}`")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise InputError(
            f"{path}: not a readingroom key (expected at least 32 hex digits); "
            "give the key used before, or a new path to create one"
        )
    return key

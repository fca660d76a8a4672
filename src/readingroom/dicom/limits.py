"""How much any one input may make us read: a file's size, an archive member's, how far it inflates.

A 2 MB zip can hold a 2 GiB member, and a 2 GB file with a valid header is still one
"image": without limits, either drives every command (and the server's checks) to gigabytes
of memory or minutes of work. The limits come from the environment, so the CLI, the
serving app and its worker processes obey the same values; the refusal names the variable
to raise when an input is genuine.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from readingroom.errors import InputError, LimitError

MAX_FILE_SIZE_ENV = "READINGROOM_MAX_FILE_SIZE"
MAX_HEADER_SIZE_ENV = "READINGROOM_MAX_HEADER_SIZE"
MAX_ZIP_RATIO_ENV = "READINGROOM_MAX_ZIP_RATIO"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


@dataclass(frozen=True)
class InputLimits:
    """Limits on one input file (or one archive member, which becomes one file once unpacked)."""

    max_file_bytes: int = 1 << 30
    max_zip_ratio: float = 100.0  # uncompressed / compressed size of one member
    ratio_exempt_bytes: int = 1 << 20  # small members may compress well (blank frames) without suspicion
    defer_bytes: int = 1 << 20  # header values larger than this are skipped while parsing, read only if used
    max_header_bytes: int = 4 << 20  # values read while parsing a header (deferred ones are not read)

    @classmethod
    def from_environment(cls) -> InputLimits:
        """The defaults, with ``READINGROOM_MAX_FILE_SIZE`` (e.g. 2G), ``READINGROOM_MAX_HEADER_SIZE`` and
        ``READINGROOM_MAX_ZIP_RATIO`` applied."""
        limits = cls()
        for name, field_name in ((MAX_FILE_SIZE_ENV, "max_file_bytes"), (MAX_HEADER_SIZE_ENV, "max_header_bytes")):
            if os.environ.get(name):
                limits = replace(limits, **{field_name: parse_size(os.environ[name], name)})
        ratio = os.environ.get(MAX_ZIP_RATIO_ENV)
        if ratio:
            if not re.fullmatch(r"\s*[0-9]+(\.[0-9]+)?\s*", ratio) or float(ratio) < 1:
                raise InputError(f"{MAX_ZIP_RATIO_ENV}={ratio!r}: give a number of at least 1, e.g. 200")
            limits = replace(limits, max_zip_ratio=float(ratio))
        return limits

    def check_file_size(self, label: str, size: int) -> None:
        if size > self.max_file_bytes:
            raise LimitError(label, f"{human_size(size)}, larger than the {human_size(self.max_file_bytes)} file "
                                    f"limit; if it is genuine, raise {MAX_FILE_SIZE_ENV} (e.g. {MAX_FILE_SIZE_ENV}=4G)")

    def check_member(self, label: str, size: int, compressed: int) -> None:
        """An archive member, judged by the sizes it declares (and again as it is read)."""
        self.check_file_size(label, size)
        ratio = size / max(compressed, 1)
        if size > self.ratio_exempt_bytes and ratio > self.max_zip_ratio:
            raise LimitError(label, f"unpacks {ratio:.0f} times larger than it is packed ({human_size(compressed)} to "
                                    f"{human_size(size)}), beyond the {self.max_zip_ratio:g}:1 limit for an archive "
                                    f"member; unpack it yourself if it is genuine, or raise {MAX_ZIP_RATIO_ENV}")


def parse_size(text: str, name: str) -> int:
    """``"500M"``, ``"2G"``, ``"1073741824"`` as bytes (binary units)."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.I)
    if not match or float(match.group(1)) <= 0:
        raise InputError(f"{name}={text!r}: give a size such as 500M or 2G")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def human_size(size: float) -> str:
    """Bytes as a person reads them: ``2.0 GiB``."""
    if size < 1024:
        return f"{size:.0f} bytes"
    for unit in ("KiB", "MiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GiB"

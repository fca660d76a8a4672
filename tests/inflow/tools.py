"""Running the CLI as a user would, and looking for planted identifiers everywhere it left things."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FAKE_PHI

SRC = Path(__file__).resolve().parents[2] / "src"
CLI = [sys.executable, "-c", "from readingroom.cli import main; main()"]


def cli_env(**extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **extra)
    for name in ("READINGROOM_DICOMWEB_TOKEN", "READINGROOM_DICOMWEB_USER", "READINGROOM_DICOMWEB_PASSWORD"):
        env.pop(name, None) if name not in extra else None
    return env


def readingroom(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], check=False, capture_output=True, text=True, env=env or cli_env(), timeout=timeout)


def planted(extra: tuple[str, ...] = ()) -> list[str]:
    """The planted values as they could reappear: whole, and each part of a name."""
    values = {v for v in FAKE_PHI.values()} | {part for v in FAKE_PHI.values() for part in v.split("^")} | set(extra)
    return sorted(v for v in values if len(v) >= 4)


def identifiers_in(root: Path, *texts: str, extra: tuple[str, ...] = ()) -> list[str]:
    """Every planted value found in a file's bytes, a path under ``root``, or the texts (logs, output)."""
    found = []
    for path in [root, *root.rglob("*")]:
        blob = path.read_bytes() if path.is_file() else b""
        where = str(path.relative_to(root.parent))
        found += [f"{value} in {where}" for value in planted(extra) if value.encode() in blob or value in where]
    found += [f"{value} in output" for text in texts for value in planted(extra) if value in text]
    return found

"""One real `readingroom serve` per session, on a free port, over a copy of cases/ plus a case that fails the PHI checks.

Browser fixtures (Debian's Chromium via Playwright) come from tests/browser/conftest.py.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.servers import Server, jupyter_env, free_port

CASES = Path(__file__).resolve().parents[2] / "cases"
# A fixed set, so the catalog's expected counts do not change as sample cases are added.
SERVED = (
    "chronic-subdural-haematoma-with-mass-effect",
    "multiple-pulmonary-masses-probably-metastases",
    "non-ossifying-fibroma-of-the-distal-tibia",
    "normal-shoulder-anatomy-on-coronal-oblique-t1",
    "point-of-care-echo-apical-four-chamber-view",
    "whole-body-bone-scan-the-normal-pattern",
)
WITHHELD_SLUG = "withheld-bone-scan"
HEAD_CT = "chronic-subdural-haematoma-with-mass-effect"


@pytest.fixture(scope="session")
def serve_dir(tmp_path_factory) -> Path:
    """cases/ copied, plus a case whose narrative carries a medical record number."""
    root = tmp_path_factory.mktemp("serve") / "cases"
    for slug in SERVED:
        shutil.copytree(CASES / slug, root / slug)
    withheld = root / WITHHELD_SLUG
    shutil.copytree(root / "whole-body-bone-scan-the-normal-pattern", withheld)
    notebook = json.loads((withheld / "case.ipynb").read_text())
    notebook["cells"].insert(0, {"cell_type": "markdown", "id": "leak", "metadata": {"tags": ["history"]},
                                 "source": "Seen in clinic, MRN 12345678."})
    (withheld / "case.ipynb").write_text(json.dumps(notebook))
    return root


def start_serve(cases: Path, workdir: Path, *options: str, env: dict | None = None) -> Server:
    """`readingroom serve CASES [OPTIONS]` exactly as a user starts it, its Jupyter folders and frame cache in
    ``workdir``, ``env`` added to its environment."""
    port = free_port()
    env = {**jupyter_env(workdir, workdir / "frame-cache", "serve"), **(env or {})}
    server = Server([sys.executable, "-m", "readingroom", "serve", str(cases), f"--port={port}", *options],
                    env, workdir, workdir / "serve.log", port, "readingroom/catalog.json")
    server.dir = cases
    return server


@pytest.fixture(scope="session")
def served(serve_dir, tmp_path_factory):
    server = start_serve(serve_dir, tmp_path_factory.mktemp("serve-run"))
    yield server
    server.stop()

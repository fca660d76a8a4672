"""Plain `voila` (configured by the jupyter-config/voila.json readingroom installs) and our Voila app keep
the same JupyterLab UI extensions out of their pages."""

from __future__ import annotations

import json
from pathlib import Path

from readingroom.server.voila_app import JUPYTERLAB_UI_EXTENSIONS

SHIPPED = Path(__file__).resolve().parents[2] / "jupyter-config" / "voila.json"


def test_the_shipped_voila_configuration_denies_what_our_app_denies():
    assert json.loads(SHIPPED.read_text())["VoilaConfiguration"]["extension_denylist"] == JUPYTERLAB_UI_EXTENSIONS

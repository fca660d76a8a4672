"""A notebook with a viewer, executed and exported by nbconvert, shows the image without a kernel."""

from __future__ import annotations

import base64
import io
import re

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from PIL import Image

from readingroom.dicom.synthetic import write_ct_phantom


def test_nbconvert_html_carries_the_current_view_as_png(tmp_path, monkeypatch):
    write_ct_phantom(tmp_path / "ct", slices=6, size=64, pixel_spacing=(0.5, 0.5), slice_spacing=2.0)
    monkeypatch.setenv("READINGROOM_CACHE", str(tmp_path / "cache"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from readingroom.widgets import Viewer\n"
        f"viewer = Viewer({str(tmp_path / 'ct')!r}, frame=1, window='bone')\nviewer")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # Like a notebook saved from JupyterLab (which does not save widget state by default),
    # so nbconvert picks the best static representation of the output.
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False).execute()
    html, _ = HTMLExporter().from_notebook_node(nb)
    match = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    assert match, "no PNG of the viewer in the exported HTML"
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(match.group(1)))).convert("L"))
    assert image.shape == (64, 64)
    # bone window 480/2500: air is black, the bone ring light grey, soft tissue mid grey
    assert image[0, 0] == 0 and 40 < image[32, 32] < 130

"""Browser fixtures: Debian's Chromium driven by Playwright, and real servers on free ports.

JupyterLab, Notebook 7, our Voila app and plain Voila start once per session, each with
its own config/data/runtime folders so the machine's Jupyter config stays out.
The `browser` and `page` fixtures live in tests/conftest.py: one Playwright
instance serves every test package (two sync instances cannot run at once).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from tests.servers import LAB_ARGS, Server, free_port, jupyter_env, jupyter_server

PHANTOM = {"slices": 24, "size": 256, "pixel_spacing": (0.5, 0.5), "slice_spacing": 2.0}


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("viewer-e2e")


@pytest.fixture(scope="session")
def frame_cache(workdir) -> Path:
    return workdir / "frame-cache"


@pytest.fixture(scope="session")
def phantom_dir(workdir) -> Path:
    from readingroom.dicom.synthetic import write_ct_phantom

    folder = workdir / "phantom"
    write_ct_phantom(folder, **PHANTOM)
    return folder


@pytest.fixture(scope="session")
def notebook_dir(workdir, phantom_dir) -> Path:
    """A folder with one notebook showing the phantom in a Viewer."""
    folder = workdir / "notebooks"
    folder.mkdir()
    source = f"from readingroom.widgets import Viewer\nviewer = Viewer({str(phantom_dir)!r})\nviewer"
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "viewer", "metadata": {}, "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (folder / "phantom.ipynb").write_text(json.dumps(nb))
    return folder




@pytest.fixture(scope="session")
def jupyterlab(workdir, notebook_dir, frame_cache):
    server = jupyter_server("jupyterlab", LAB_ARGS, workdir, notebook_dir, frame_cache, "lab", "jupyterlab.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def notebook7(workdir, notebook_dir, frame_cache):
    """Notebook 7 (`jupyter notebook`): the notebook interface educators may use instead of JupyterLab."""
    server = jupyter_server("notebook", [], workdir, notebook_dir, frame_cache, "notebook7", "notebook7.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def voila(workdir, notebook_dir, frame_cache):
    """Our serving app: Voila with the readingroom handlers added."""
    port = free_port()
    server = Server(
        [sys.executable, "-m", "readingroom.server.voila_app", str(notebook_dir / "phantom.ipynb"), "--no-browser",
         f"--port={port}", "--Voila.ip=127.0.0.1"],
        jupyter_env(workdir, frame_cache, "voila"), notebook_dir, workdir / "voila.log", port,
        "voila/static/voila.js")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def plain_voila(workdir, notebook_dir, frame_cache):
    """Stock `voila notebook.ipynb` as an author runs it in the project's environment: no readingroom
    handlers, so frames come over the comm; `notebook` installed, and the Voila configuration readingroom
    installs (the environment's etc/jupyter) read, as a user's own Voila would."""
    port = free_port()
    env = jupyter_env(workdir, frame_cache, "plain-voila")
    env.pop("JUPYTER_NO_CONFIG")  # the environment's config is what is under test (user config stays isolated)
    server = Server(
        [sys.executable, "-m", "voila", str(notebook_dir / "phantom.ipynb"), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1"],
        env, notebook_dir, workdir / "plain-voila.log", port, "voila/static/voila.js")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def static_site(phantom_dir, frame_cache):
    """A plain page (no Jupyter at all) serving our handlers and a stub-model test page."""
    import asyncio

    from tornado import web

    from readingroom.dicom import open_path
    from readingroom.frames import FrameCache, encode_series
    from readingroom.server import routes
    from readingroom.widgets.assets import modules_version

    import data_store

    cache = FrameCache(frame_cache)
    manifest = encode_series(open_path(phantom_dir).series[0], cache)
    twins = list(manifest["lossless"])  # frames with the same pixels share a digest (blank slices do)
    twins[manifest["start"] - 1] = twins[manifest["start"] + 1]  # both asked for at once, right after the start
    data_store_files = Path(data_store.__file__).parent / "data"
    manifests = {
        "phantom": manifest,
        "palette": encode_series(open_path(data_store_files / "gdcm-US-ALOKA-16.dcm").series[0], cache),
        "rgb": encode_series(open_path(data_store_files / "US1_UNCR.dcm").series[0], cache),
        "mr-clip": encode_series(open_path(data_store_files / "emri_small.dcm").series[0], cache),
        "twins": {**manifest, "lossless": twins},
    }
    template = (Path(__file__).parent / "stub_page.html").read_text().replace("__VERSION__", modules_version())

    class PageHandler(web.RequestHandler):
        def get(self):
            name = self.get_argument("series", "phantom")
            if name not in manifests:
                raise web.HTTPError(404)
            self.set_header("Content-Type", "text/html")
            self.finish(template.replace("__MANIFEST__", json.dumps(manifests[name])))

    port = free_port()
    started = threading.Event()
    holder = {}

    def run():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application(routes("/", cache) + [(r"/", PageHandler)])
        holder["server"] = app.listen(port, "127.0.0.1")
        holder["loop"] = loop
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(10)
    yield {"url": f"http://127.0.0.1:{port}/", "manifest": manifest, "cache": frame_cache}
    holder["loop"].call_soon_threadsafe(holder["loop"].stop)

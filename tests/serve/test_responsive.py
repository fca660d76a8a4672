"""The server stays responsive while the PHI gate checks a malformed file dropped into a served case.

The check runs in a worker process (readingroom.server.dicom_jobs): a request that needs the
verdict waits for it, every other request is answered meanwhile. Before, the check ran on the
event loop and a 16 MB malformed file froze every page and websocket for seconds.
"""

from __future__ import annotations

import json
import shutil
import threading
import urllib.request

from readingroom.server.catalog import public_id
from readingroom.widgets.assets import modules_version
from readingroom.dicom.synthetic import write_header_bomb
from tests.serve.conftest import CASES, HEAD_CT, start_serve


def wait_for_log(server, text: str, timeout: float = 120) -> None:
    import time

    deadline = time.monotonic() + timeout
    while text not in server.log.read_text():
        assert time.monotonic() < deadline, f"never logged {text!r}:\n{server.log.read_text()[-2000:]}"
        assert server.proc.poll() is None, server.log.read_text()[-2000:]
        time.sleep(0.05)  # polling the server's log for a condition


def test_other_requests_are_answered_while_a_malformed_file_is_checked(tmp_path):
    cases = tmp_path / "cases"
    shutil.copytree(CASES / HEAD_CT, cases / HEAD_CT)
    # A header limit high enough that the malformed file is checked in full, as a genuine large header would be.
    server = start_serve(cases, tmp_path, env={"READINGROOM_MAX_HEADER_SIZE": "64M"})
    try:
        index = f"{server.url}readingroom/catalog.json"
        with urllib.request.urlopen(index, timeout=60) as reply:
            assert [entry["id"] for entry in json.load(reply)] == [public_id(HEAD_CT)]
        images = cases / HEAD_CT / "images"
        write_header_bomb(next(images.rglob("*.dcm")), images / "dropped-in.dcm")

        finished, listed = [], []

        def ask_for_the_catalog() -> None:  # needs the case's new verdict: waits for the check
            with urllib.request.urlopen(index, timeout=300) as reply:
                listed.extend(entry["id"] for entry in json.load(reply))
            finished.append("catalog")

        waiting = threading.Thread(target=ask_for_the_catalog)
        waiting.start()
        wait_for_log(server, f"checking case {HEAD_CT}: its files are new or changed")
        module = f"{server.url}readingroom/static/{modules_version()}/viewer.js"
        with urllib.request.urlopen(module, timeout=300) as reply:
            assert reply.status == 200
        finished.append("module")
        waiting.join(300)

        assert finished == ["module", "catalog"]  # answered while the check ran, not after it
        assert listed == []  # and the check withheld the case
    finally:
        server.stop()

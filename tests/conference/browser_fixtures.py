"""A real conference for the browser tests: `readingroom conference start`, as a presenter starts one.

The case is the head CT sample's narrative over a 24-slice synthetic phantom, de-identified
by `readingroom.deid` like any real study, so frames and windows can be followed slice by
slice (the sample cases hold one image each). Participants are separate browser contexts,
each joining with the code the presenter console shows, as a person would.
"""

from __future__ import annotations

import re
import shutil
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect

from readingroom.server.case_pages import RUN_TIMEOUT
from readingroom.server.catalog import public_id
from tests.conftest import ConsoleLog
from tests.servers import Server, free_port, jupyter_env

CASES = Path(__file__).resolve().parents[2] / "cases"
SLUG = "head-ct"
PARTICIPANTS = ("Dr Ana Quarry", "Dr Ben Ollis", "Dr Cy Ndlovu")
VIEWER = "[data-rr-viewer]"
OFFLINE = re.compile(r"^WebSocket connection to .* failed: .*ERR_INTERNET_DISCONNECTED")


@pytest.fixture(scope="module")
def conference_server(tmp_path_factory):
    server = start_conference(tmp_path_factory.mktemp("conference-browser"), "--no-voice")
    yield server
    server.stop()


def start_conference(workdir: Path, *options: str) -> Server:
    """`readingroom conference start` on the phantom case in ``workdir``, with ``options``; ready for pages."""
    from readingroom.deid import deidentify
    from readingroom.dicom.synthetic import write_ct_phantom

    case = workdir / "cases" / SLUG
    narrative = CASES / "chronic-subdural-haematoma-with-mass-effect"
    shutil.copytree(narrative, case, ignore=shutil.ignore_patterns("images"))
    write_ct_phantom(workdir / "phantom", slices=24, size=128, pixel_spacing=(0.8, 0.8), slice_spacing=2.0)
    deidentify(workdir / "phantom", case / "images", key_path=workdir / "deid.key", workers=1)
    (case / "images" / "deid-report.json").replace(case / "deid.json")
    env = jupyter_env(workdir, workdir / "frame-cache", "conference")
    port = free_port()
    server = Server([sys.executable, "-m", "readingroom", "conference", "start", SLUG,
                     "--cases", str(workdir / "cases"), f"--port={port}", "--qr", str(workdir / "join.png"), *options],
                    env, workdir, workdir / "conference.log", port, "readingroom/catalog.json")
    server.workdir = workdir
    server.presenter_url = re.search(r"http://\S+/present\?token=\S+", server.log.read_text()).group(0)
    # What a reveal brings comes from the case's one run, which starts with the server: wait for that
    # state (the public case page answers once the run is done), or a reveal may outlast expect's patience.
    urllib.request.urlopen(f"{server.url}cases/{public_id(SLUG)}/", timeout=RUN_TIMEOUT).close()
    return server


@dataclass
class Room:
    """The presenter's page and each participant's page, with their console logs."""

    presenter: object
    participants: list
    contexts: list
    logs: list = field(default_factory=list)
    presenter_url: str = ""

    def viewer(self, page):
        return page.locator(VIEWER)

    def errors(self) -> list[str]:
        """Console errors on any page, except a socket failing to connect while a test holds its context offline."""
        return [e for log in self.logs for e in log.errors if not OFFLINE.search(e)]


def _page(browser, room_logs: list, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    room_logs.append(ConsoleLog(page))
    return context, page


def join(page, url: str, code: str, name: str) -> None:
    page.goto(f"{url}join/{code}")
    page.get_by_label("Your name").fill(name)
    page.get_by_role("button", name="Join").click()
    page.wait_for_url("**/follow?ticket=*")
    expect(page.locator(VIEWER)).to_have_attribute("data-tier", "lossless", timeout=30_000)


@pytest.fixture(scope="module")
def room(browser, conference_server):
    """A presenter and three participants following a live conference."""
    logs: list = []
    contexts = []
    context, presenter = _page(browser, logs, viewport={"width": 1280, "height": 900})
    contexts.append(context)
    presenter_url = conference_server.presenter_url
    presenter.goto(presenter_url)
    expect(presenter.locator(VIEWER)).to_have_attribute("data-tier", "lossless", timeout=30_000)
    code = presenter.locator(".rr-code").inner_text()
    participants = []
    for name in PARTICIPANTS:
        context, page = _page(browser, logs, viewport={"width": 820, "height": 1180}, has_touch=True)  # a tablet
        contexts.append(context)
        join(page, conference_server.url, code, name)
        participants.append(page)
    yield Room(presenter, participants, contexts, logs, presenter_url)
    for context in contexts:
        context.close()

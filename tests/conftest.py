"""Shared fixtures: where the public DICOM test sets live, and synthetic series.

The public files come from PyPI packages (pydicom's bundled test files and
pydicom-data); they are located on disk, never fetched, because pydicom's own
lookup helpers try the network for files they do not hold.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydicom
import pytest

from tests.system_packages import CHROMIUM, require, skipped_for_packages

# One PostgreSQL per run, shared by every folder; the conference room fixtures (a presenter and participants).
pytest_plugins = ["tests.postgres_fixtures", "tests.conference.browser_fixtures"]

# Markers that follow from a test's fixtures, so `make test-fast` (-m "not browser and not postgres")
# leaves out every test that starts Chromium or PostgreSQL, however it reaches them.
MARKED_BY_FIXTURE = {"browser": "browser", "postgres_server": "postgres"}


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in MARKED_BY_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


def pytest_terminal_summary(terminalreporter) -> None:
    """One line per missing Debian package: how many tests it kept from running and how to install it."""
    for need, count in skipped_for_packages(terminalreporter.stats.get("skipped", [])).items():
        terminalreporter.write_line(f"not run for lack of {need.what}: {count} test(s); install it with "
                                    f"`sudo apt-get install {need.packages}` or run `make test` as root", yellow=True)


PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def _data_store_dir() -> Path:
    import data_store  # installed by pydicom-data (the `test` extra)

    return Path(data_store.__file__).parent / "data"


DATA_STORE_FILES = _data_store_dir()


def public_files() -> list[Path]:
    """Every file of both public sets, DICOMDIR index files excluded."""
    files = [p for root in (PYDICOM_FILES, DATA_STORE_FILES) for p in sorted(root.rglob("*")) if p.is_file()]
    return [p for p in files if p.name.upper() != "DICOMDIR" and "__pycache__" not in p.parts and p.suffix != ".py"]


# Synthetic identifiers planted by fixtures: none may ever reach an output, a log or a page.
FAKE_PHI = {
    "PatientName": "Fakename^Dorothea",
    "PatientID": "MRN-99-123456",
    "PatientBirthDate": "19470312",
    "InstitutionName": "Cedar Hollow Rural Clinic",
    "AccessionNumber": "ACC7731905",
    "ReferringPhysicianName": "Referrer^Quentin",
    "StudyDate": "20240611",
}


def plant_phi(folder: Path, **extra) -> Path:
    """Write FAKE_PHI (and ``extra`` attributes) into every file of ``folder``."""
    for path in folder.iterdir():
        ds = pydicom.dcmread(path)
        for keyword, value in {**FAKE_PHI, **extra}.items():
            setattr(ds, keyword, value)
        ds.save_as(path)
    return folder


@pytest.fixture(scope="session")
def pydicom_files() -> Path:
    return PYDICOM_FILES


@pytest.fixture(scope="session")
def data_store_files() -> Path:
    return DATA_STORE_FILES


@pytest.fixture(scope="session")
def ct_series_300(tmp_path_factory) -> Path:
    """A 300-slice synthetic CT written in shuffled file order (small slices keep it quick)."""
    from readingroom.dicom.synthetic import write_ct_phantom

    folder = tmp_path_factory.mktemp("ct300")
    write_ct_phantom(folder, slices=300, size=32, pixel_spacing=(0.8, 0.8), slice_spacing=1.25, shuffle=True)
    return folder


@pytest.fixture
def small_ct(tmp_path) -> Path:
    """A 12-slice 64x64 phantom in its own folder, safe to modify."""
    from readingroom.dicom.synthetic import write_ct_phantom

    folder = tmp_path / "ct"
    write_ct_phantom(folder, slices=12, size=64, pixel_spacing=(0.5, 0.5), slice_spacing=2.0)
    return folder


CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright, one for the whole run (Playwright cannot download its own here)."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class ConsoleLog:
    """Console errors and uncaught page errors, for tests that assert a clean console."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.console = ConsoleLog(page)
    yield page
    context.close()


def run_async(coroutine):
    """Run ``coroutine`` to its end on a loop of its own, in a thread: Playwright's sync API (the browser
    tests) holds an event loop in the main thread for the rest of the run."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()

"""Catalog and case pages at 1.5 Mbit/s / 300 ms, kernel memory, and page opens/s with 20 visitors.

`readingroom serve` and plain `voila <case.ipynb>` run side by side on the same
case (a copy of cases/); Chromium is Debian's, throttled through CDP. The same case
with an ipywidgets slider added is measured too: serve hands such a notebook to
Voila with a preheated kernel (the way every case page was served before).
Run: .venv/bin/python benchmarks/serve_pages.py
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from harness import CHROMIUM, CHROMIUM_ARGS, Server, children, isolated_env
from readingroom.server.catalog import public_id

ROOT = Path(__file__).resolve().parents[1]

CASE = "chronic-subdural-haematoma-with-mass-effect"
LIVE = "head-ct-with-a-slider"
LINK = {"offline": False, "latency": 300, "downloadThroughput": 1_500_000 / 8, "uploadThroughput": 750_000 / 8}
PAINTED = "[data-rr-viewer][data-tier]"


def load(context, url: str, ready: str) -> tuple[float, int]:
    """Seconds until `ready` is visible (case: first image painted) and bytes received."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", LINK)
    received = []
    cdp.on("Network.loadingFinished", lambda e: received.append(e["encodedDataLength"]))
    started = time.monotonic()
    page.goto(url, wait_until="commit")
    page.wait_for_selector(ready, timeout=180_000)
    elapsed = time.monotonic() - started
    page.wait_for_load_state("networkidle")
    page.close()
    return elapsed, sum(received)


def pages(browser, url: str, ready: str, settle=lambda: None) -> dict:
    """A first visit (empty browser cache) and a return visit (cached), ``settle`` before each."""
    context = browser.new_context()
    settle()
    cold = load(context, url, ready)
    settle()
    warm = load(context, url, ready)
    context.close()
    return {"cold_s": cold[0], "cold_bytes": cold[1], "warm_s": warm[0], "warm_bytes": warm[1]}


def pool_ready(server: Server, kernels: int, timeout: float = 300) -> None:
    """Until the server holds ``kernels`` preheated kernels and they have finished running their cases.

    A visitor to a running server meets a full pool; right after start, or right after the
    previous visitor took the last kernel, they would meet a kernel still starting instead.
    """
    time.sleep(3)  # a page just closed: its kernel is shut down first, then the pool refills
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        found = server.kernels()
        settled = len(found) >= kernels and cpu_percent(found) < 5
        quiet = quiet + 1 if settled else 0
        if quiet == 3:
            return
        time.sleep(0.5)
    raise SystemExit(f"the server did not preheat {kernels} kernels in {timeout:.0f} s")


def opens_per_second(url: str, visitors: int = 20, total: int = 60) -> float:
    """Full page renders (HTML through the last cell) per second with `visitors` at a time."""
    def one(_):
        with urllib.request.urlopen(url, timeout=300) as reply:
            reply.read()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(visitors) as pool:
        list(pool.map(one, range(total)))
    return total / (time.monotonic() - started)


def live_copy(cases: Path) -> str:
    """The same case with one ipywidgets slider added: a notebook that needs a kernel, so Voila serves it live."""
    shutil.copytree(cases / CASE, cases / LIVE)
    path = cases / LIVE / "case.ipynb"
    notebook = json.loads(path.read_text())
    notebook["cells"].insert(2, {"cell_type": "code", "execution_count": None, "id": "slider", "metadata": {},
                                 "outputs": [], "source": "import ipywidgets\nipywidgets.IntSlider()"})
    path.write_text(json.dumps(notebook))
    return LIVE


def cpu_percent(processes: list[psutil.Process]) -> float:
    """Their CPU use over half a second, together (one that ends meanwhile counts as idle)."""
    total = 0.0
    for process in processes:
        try:
            total += process.cpu_percent(interval=0.5)
        except psutil.Error:
            pass
    return total


def cases_run(server: Server, timeout: float = 300) -> None:
    """Until the server has run every case once (at start-up) and its kernels are quiet, as on a running server."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        running = children(psutil.Process(server.proc.pid), "readingroom.server.case_run")
        busy = cpu_percent(server.kernels()) >= 5
        quiet = 0 if running or busy else quiet + 1
        if quiet == 3:
            return
        time.sleep(0.5)
    raise SystemExit(f"the server was still running cases after {timeout:.0f} s")


def open_and_measure(browser, server: Server, url: str, pages_open: int = 3) -> float:
    """MB of kernel memory per open case page, with ``pages_open`` pages open at once."""
    context = browser.new_context()
    before = sum(p.memory_info().rss for p in server.kernels())
    for _ in range(pages_open):
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(PAINTED, timeout=180_000)
    after = sum(p.memory_info().rss for p in server.kernels())
    context.close()
    return max(after - before, 0) / pages_open / 1e6


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    cases = work / "cases"
    shutil.copytree(ROOT / "cases", cases)
    live_copy(cases)
    env = isolated_env(work)
    ours = Server([sys.executable, "-m", "readingroom", "serve", str(cases)], env, work, work / "serve.log",
                  "readingroom/catalog.json")
    plain = Server([sys.executable, "-m", "voila", str(cases / CASE / "case.ipynb"), "--no-browser",
                    "--Voila.ip=127.0.0.1"], env, cases / CASE, work / "plain.log", "voila/static/voila.js")
    try:
        case_url, live_url = (f"{ours.url}cases/{public_id(slug)}/" for slug in (CASE, LIVE))
        cases_run(ours)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            results = {
                "catalog": pages(browser, ours.url, ".card img"),
                "case page": pages(browser, case_url, PAINTED, settle=lambda: cases_run(ours)),
                "case page served live by Voila": pages(browser, live_url, PAINTED, settle=lambda: pool_ready(ours, 1)),
                "plain voila": pages(browser, plain.url, PAINTED),
            }
            cases_run(ours)
            results["kernel MB per open page, readingroom"] = open_and_measure(browser, ours, case_url)
            pool_ready(ours, 1)
            results["kernel MB per open page, served live"] = open_and_measure(browser, ours, live_url)
            results["kernel MB per open page, plain voila"] = open_and_measure(browser, plain, plain.url)
            browser.close()
        results["opens/s, readingroom"] = opens_per_second(case_url)
        results["opens/s, plain voila"] = opens_per_second(plain.url)
    finally:
        ours.stop()
        plain.stop()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

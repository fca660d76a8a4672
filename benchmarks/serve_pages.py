"""Catalog and case pages at 1.5 Mbit/s / 300 ms, kernel memory, and page opens/s with 20 visitors.

`readingroom serve` and plain `voila <case.ipynb>` run side by side on the same
case (a copy of cases/); Chromium is Debian's, throttled through CDP.
Run: .venv/bin/python benchmarks/serve_pages.py
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness import CHROMIUM, CHROMIUM_ARGS, Server, isolated_env

ROOT = Path(__file__).resolve().parents[1]

CASE = "chronic-subdural-haematoma-with-mass-effect"
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
        settled = len(found) >= kernels and sum(k.cpu_percent(interval=0.5) for k in found) < 5
        quiet = quiet + 1 if settled else 0
        if quiet == 3:
            return
        time.sleep(0.5)
    raise SystemExit(f"the server did not preheat {kernels} kernels in {timeout:.0f} s")


def kernel_memory(server: Server) -> float:
    """MB of resident memory per kernel started by the server (its child ipykernel processes)."""
    kernels = server.kernels()
    return statistics.mean(p.memory_info().rss for p in kernels) / 1e6 if kernels else float("nan")


def opens_per_second(url: str, visitors: int = 20, total: int = 60) -> float:
    """Full page renders (HTML through the last cell) per second with `visitors` at a time."""
    def one(_):
        with urllib.request.urlopen(url, timeout=300) as reply:
            reply.read()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(visitors) as pool:
        list(pool.map(one, range(total)))
    return total / (time.monotonic() - started)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    cases = work / "cases"
    shutil.copytree(ROOT / "cases", cases)
    env = isolated_env(work)
    ours = Server([sys.executable, "-m", "readingroom", "serve", str(cases)], env, work, work / "serve.log",
                  "readingroom/catalog.json")
    plain = Server([sys.executable, "-m", "voila", str(cases / CASE / "case.ipynb"), "--no-browser",
                    "--Voila.ip=127.0.0.1"], env, cases / CASE, work / "plain.log", "voila/static/voila.js")
    try:
        index = json.load(urllib.request.urlopen(ours.url + "readingroom/catalog.json"))
        case_url = ours.url + "cases/" + next(e["id"] for e in index if e["region"] == "head") + "/"
        preheated = len(index)  # one per servable case (serve's default pool size)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            results = {
                "catalog": pages(browser, ours.url, ".card img"),
                "case page": pages(browser, case_url, PAINTED, settle=lambda: pool_ready(ours, preheated)),
                "plain voila": pages(browser, plain.url, PAINTED),
            }
            context = browser.new_context()
            open_pages = [context.new_page() for _ in range(3)]
            for page in open_pages:
                page.goto(case_url)
                page.wait_for_selector(PAINTED, timeout=120_000)
            results["kernel MB, readingroom"] = kernel_memory(ours)
            results["kernel MB, plain voila"] = kernel_memory(plain)
            context.close()
            browser.close()
        results["opens/s, readingroom"] = opens_per_second(case_url)
        results["opens/s, plain voila"] = opens_per_second(plain.url)
    finally:
        ours.stop()
        plain.stop()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

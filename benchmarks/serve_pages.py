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

import psutil
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser.conftest import Server, _jupyter_env, free_port  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

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


def pages(browser, url: str, ready: str) -> dict:
    context = browser.new_context()
    cold = load(context, url, ready)
    warm = load(context, url, ready)
    context.close()
    return {"cold_s": cold[0], "cold_bytes": cold[1], "warm_s": warm[0], "warm_bytes": warm[1]}


def kernel_memory(server: Server) -> float:
    """MB of resident memory per kernel started by the server (its child ipykernel processes)."""
    kernels = [p for p in psutil.Process(server.proc.pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
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
    env = _jupyter_env(work, work / "frames", "bench")
    port = free_port()
    ours = Server([sys.executable, "-m", "readingroom", "serve", str(cases), f"--port={port}"], env, work,
                  work / "serve.log", port, "readingroom/catalog.json")
    pport = free_port()
    plain = Server([sys.executable, "-m", "voila", str(cases / CASE / "case.ipynb"), "--no-browser", f"--port={pport}",
                    "--Voila.ip=127.0.0.1"], env, cases / CASE, work / "plain.log", pport, "voila/static/voila.js")
    try:
        index = json.load(urllib.request.urlopen(ours.url + "readingroom/catalog.json"))
        case_url = ours.url + "cases/" + next(e["id"] for e in index if e["region"] == "head") + "/"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            results = {
                "catalog": pages(browser, ours.url, ".card img"),
                "case page": pages(browser, case_url, PAINTED),
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

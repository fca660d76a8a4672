"""The viewer on a rural link, in three places: same run, same link.

A synthetic 512x512x300 CT phantom is shown under Chromium's network emulation
(default 1.5 Mbit/s both ways, 300 ms latency, browser cache disabled):

* readingroom in Voila: ``Viewer(folder)`` in our Voila app, a kernel per visitor;
  frames come over HTTP from the frame cache (encoded once beforehand), windowing
  and scrolling run in the browser;
* readingroom case page: a case made from the same series as an educator makes one
  (``readingroom.case.new_case``, then every TODO written), served by a real
  ``readingroom serve``, which runs the case once; the page mounts the same viewer
  module from the saved widget state, no kernel;
* plain: an ipywidgets slider + window fields in the same Voila app; the kernel
  renders a PNG per change with matplotlib and sends it through the comm.

Measured in each place: bytes received before the first image, time to first image
(from navigation start, from the load event and from when the widget was on the
page), time until every slice is in the browser, work per scroll frame, and bytes
the kernel sent while scrolling 50 frames and changing the window 20 times.

``--stack-order`` measures instead the order frames load in, on a satellite-class link
(384 kbit/s, 700 ms round trip): the viewer module on a plain page with our frame
handler, once with the current order (every preview first, then lossless around the
slice in view) and once with the order before it (lossless outwards from the first
slice; a preview only for a slice scrolled to), same run, same link. Figures: time
from the first image until the whole stack can be scrolled (every frame viewable at
some quality), and until the slice in view is lossless after the user jumps 100
slices on and stops, 20 s after the first image.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python benchmarks/viewer_rural_link.py --update-readme
    .venv/bin/python benchmarks/viewer_rural_link.py --stack-order --update-readme
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from harness import CHROMIUM, CHROMIUM_ARGS, Server, free_port, isolated_env, write_figures

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "viewer"
VOILA, CASE_PAGE, PLAIN = "readingroom in Voila", "readingroom case page", "plain"
CASE_TITLE = "Phantom head CT on a rural link"
BEGIN, END = "<!-- viewer_rural_link.py figures: begin -->", "<!-- viewer_rural_link.py figures: end -->"
SECTION = "## Viewer on a rural link"

PLAIN_SOURCE = """
import io
import ipywidgets as W
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from readingroom.dicom import open_path, modality_values
series = open_path({folder!r}).series[0]
image = W.Image(format="png")
slice_ = W.BoundedIntText(value={start}, min=0, max=series.frame_count - 1, description="Slice", continuous_update=False)
center = W.BoundedIntText(value=40, min=-1000, max=1000, step=10, description="Center", continuous_update=False)
width = W.BoundedIntText(value=80, min=10, max=3000, step=10, description="Width", continuous_update=False)
def draw(*_):
    values = modality_values(series.frames[slice_.value])
    fig = plt.figure(figsize=(5.12, 5.12), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1]); ax.axis("off")
    ax.imshow(values, cmap="gray", vmin=center.value - width.value / 2, vmax=center.value + width.value / 2)
    out = io.BytesIO(); fig.savefig(out, format="png"); plt.close(fig)
    image.value = out.getvalue()
for w in (slice_, center, width):
    w.observe(draw, "value")
draw()
W.VBox([slice_, center, width, image])
"""

VIEWER_SOURCE = "from readingroom.widgets import Viewer\nViewer({folder!r})"

SLOW_MBIT, SLOW_LATENCY_MS = 0.384, 700
STACK_BEGIN, STACK_END = "<!-- viewer_rural_link.py --stack-order figures: begin -->", "<!-- viewer_rural_link.py --stack-order figures: end -->"
# The viewer on a plain page, with the order to compare: ?order=before is the order the viewer had before
# issue 19, written here as a plan for the current loader, so both orders run the same code otherwise.
STACK_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>stack order</title></head><body><main id="host"></main>
<script type="module">
import viewer from "/readingroom/static/__VERSION__/viewer.js";
import { HostModel } from "/readingroom/static/__VERSION__/core.js";
import { VIEW_DEFAULTS } from "/readingroom/static/__VERSION__/view_state.js";
function before(store) {  // the first preview, then lossless outwards six at a time; previews only for a slice in view
  if (!store.has(store.focus, "preview") && !store.pending(store.focus, "preview")) return [store.focus, "preview"];
  if (store.inFlight("lossless") >= 6) return null;
  const k = store.nearest((j) => !store.has(j, "lossless") && !store.pending(j, "lossless"));
  return k >= 0 ? [k, "lossless"] : null;
}
const t = window.__stack = { first: null, viewable: null };
const model = new HostModel({ ...VIEW_DEFAULTS, _manifest: __MANIFEST__, _series_list: [], frame: null, window: null });
const order = new URLSearchParams(location.search).get("order");
viewer.render({ model, el: document.getElementById("host"), transport: "http", loadPlan: order === "before" ? before : undefined });
const root = document.querySelector("[data-rr-viewer]");
new MutationObserver(() => {
  const now = performance.now(), d = root.dataset;
  if (t.first === null && (d.tier === "preview" || d.tier === "lossless")) t.first = now;
  if (t.viewable === null && d.frames && d.loaded === d.frames) t.viewable = now;
}).observe(root, { attributes: true });
</script></body></html>"""

OBSERVER = """
window.__rr = { mounted: null, first: null, lossless: null, all: null, scripts: null };
window.addEventListener("load", () => { window.__rr.scripts = performance.now(); });
new MutationObserver(() => {
  const root = document.querySelector("[data-rr-viewer]");
  const img = document.querySelector(".widget-image");
  const now = performance.now();
  // a widget view attached: Voila's first output widget, or the case page's first mounted widget
  if (document.querySelector(".jp-OutputArea-output > .lm-Widget, [data-rr-widget] > *") && window.__rr.mounted === null) window.__rr.mounted = now;
  if (img && img.src && window.__rr.first === null) { window.__rr.first = now; window.__rr.lossless = now; }
  if (!root) return;
  const tier = root.dataset.tier;
  if ((tier === "preview" || tier === "lossless") && window.__rr.first === null) window.__rr.first = now;
  if (tier === "lossless" && window.__rr.lossless === null) window.__rr.lossless = now;
  if (root.dataset.frames && root.dataset.lossless === root.dataset.frames && window.__rr.all === null) window.__rr.all = now;
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


def notebook(source: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c", "metadata": {}, "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    })


class Traffic:
    """Bytes on the wire from CDP events, with their monotonic timestamps."""

    def __init__(self, cdp):
        self.http: list[tuple[float, int, str]] = []
        self.ws_in: list[tuple[float, int]] = []
        self.ws_out: list[tuple[float, int]] = []
        self.urls: dict[str, str] = {}
        self.offset = None  # wallTime - timestamp
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", lambda e: self.http.append((e["timestamp"], int(e["encodedDataLength"]), self.urls.get(e["requestId"], ""))))
        cdp.on("Network.webSocketFrameReceived", lambda e: self.ws_in.append((e["timestamp"], _ws_len(e["response"]))))
        cdp.on("Network.webSocketFrameSent", lambda e: self.ws_out.append((e["timestamp"], _ws_len(e["response"]))))

    def _sent(self, e):
        self.urls[e["requestId"]] = e["request"]["url"]
        if self.offset is None and "wallTime" in e:
            self.offset = e["wallTime"] - e["timestamp"]

    def bytes_until(self, wall: float) -> int:
        t = wall - self.offset
        return sum(n for ts, n, _ in self.http if ts <= t) + sum(n for ts, n in self.ws_in if ts <= t)

    def bytes_between(self, wall0: float, wall1: float, what: str) -> int:
        t0, t1 = wall0 - self.offset, wall1 - self.offset
        events = {"ws_in": self.ws_in, "ws_out": self.ws_out}[what]
        return sum(n for ts, n in events if t0 <= ts <= t1)

    def frame_bytes(self) -> int:
        return sum(n for _, n, url in self.http if "/readingroom/frames/" in url)


def _ws_len(frame: dict) -> int:
    data = frame.get("payloadData", "")
    return len(base64.b64decode(data)) if frame.get("opcode") == 2 else len(data.encode())


def wall(page, t: float | None) -> float | None:
    return None if t is None else page.evaluate("(t) => (performance.timeOrigin + t) / 1000", t)


def first_image(page, traffic, url: str, mark: str) -> tuple[dict, dict]:
    """Open ``url`` and wait for ``mark``; the page's marks, and when the first image came and the bytes before it.

    Measured from navigation start, from the load event and from the first widget view on the page.
    """
    page.goto(url)
    page.wait_for_function(f"window.__rr && window.__rr.{mark} !== null", timeout=180_000)
    marks = page.evaluate("window.__rr")
    before_first = traffic.bytes_until(wall(page, marks["first"]))
    return marks, {
        "first_from_nav_s": marks["first"] / 1000,
        "first_from_mount_s": (marks["first"] - marks["mounted"]) / 1000,
        "first_from_scripts_s": (marks["first"] - marks["scripts"]) / 1000,
        "bytes_before_first": before_first,
        "bytes_before_first_after_mount": before_first - traffic.bytes_until(wall(page, marks["mounted"])),
        "bytes_before_first_after_scripts": before_first - traffic.bytes_until(wall(page, marks["scripts"])),
    }


def run_viewer(page, traffic, url: str, full_timeout: float) -> dict:
    """readingroom's viewer wherever it is hosted: first image, whole series, then scrolling and windowing."""
    marks, out = first_image(page, traffic, url, "lossless")
    root = page.locator("[data-rr-viewer]")
    out["lossless_from_mount_s"] = (marks["lossless"] - marks["mounted"]) / 1000
    out["transport"] = root.get_attribute("data-transport")
    try:
        page.wait_for_function("window.__rr.all !== null", timeout=full_timeout * 1000)
        marks = page.evaluate("window.__rr")
        out["full_series_from_mount_s"] = (marks["all"] - marks["mounted"]) / 1000
    except Exception:  # noqa: BLE001 - reported as not reached
        out["full_series_from_mount_s"] = None
        out["loaded_at_timeout"] = int(root.get_attribute("data-lossless"))
    # interaction: 50 scroll steps and 20 window changes, each waited for on screen
    root.focus()
    t0 = time.time()
    paint_ms, latency_ms = [], []
    count = int(root.get_attribute("data-frames"))
    step = 1 if int(root.get_attribute("data-frame")) + 50 < count else -1
    for _ in range(50):
        before = int(root.get_attribute("data-frame"))
        start = page.evaluate("performance.now()")
        page.keyboard.press("ArrowDown" if step == 1 else "ArrowUp")
        page.wait_for_function("([el, f]) => Number(el.dataset.frame) === f && el.dataset.tier === 'lossless'",
                               arg=[root.element_handle(), before + step])
        latency_ms.append(page.evaluate("performance.now()") - start)
        paint_ms.append(float(root.get_attribute("data-paint-ms")))
    for i in range(20):
        key = "4" if i % 2 == 0 else "1"
        page.keyboard.press(key)
        page.wait_for_function("([el, c]) => el.dataset.windowCenter === c", arg=[root.element_handle(), "-600" if key == "4" else "40"])
    page.wait_for_timeout(1500)  # let debounced view-state saves and their echoes arrive before counting
    t1 = time.time()
    out.update(_interaction(traffic, t0, t1, paint_ms, latency_ms))
    return out


def run_plain(page, traffic, url: str) -> dict:
    _, out = first_image(page, traffic, url, "first")
    out.update(full_series_from_mount_s=None, transport="comm (PNG per change)")
    handles = page.locator("input[type=number]")
    t0 = time.time()
    latency_ms = []
    for index, presses in ((0, 50), (1, 20)):
        field = handles.nth(index)
        for i in range(presses):
            src = page.evaluate("document.querySelector('.widget-image').src")
            # slices step by one; the window centre alternates like the readingroom run (lung <-> soft tissue)
            value = int(field.input_value()) + 1 if index == 0 else (-600 if i % 2 == 0 else 40)
            start = page.evaluate("performance.now()")
            field.fill(str(value))
            field.dispatch_event("change")
            page.wait_for_function("(s) => document.querySelector('.widget-image').src !== s", arg=src, timeout=60_000)
            latency_ms.append(page.evaluate("performance.now()") - start)
    page.wait_for_timeout(1500)
    t1 = time.time()
    out.update(_interaction(traffic, t0, t1, [], latency_ms))
    return out


def _interaction(traffic, t0, t1, paint_ms, latency_ms) -> dict:
    return {
        "kernel_bytes_interaction": traffic.bytes_between(t0, t1, "ws_in"),
        "browser_to_kernel_bytes_interaction": traffic.bytes_between(t0, t1, "ws_out"),
        "paint_ms_median": statistics.median(paint_ms) if paint_ms else None,
        "paint_ms_max": max(paint_ms) if paint_ms else None,
        "step_latency_ms_median": statistics.median(latency_ms),
        "step_latency_ms_max": max(latency_ms),
    }


def fill_in(notebook) -> None:
    """What the educator writes after `readingroom new`: every TODO replaced, so the case passes the checks."""
    notebook.metadata["readingroom"].update({
        "presentation": "Headache after a fall; the CT was sent from a rural clinic.",
        "system": "neuro",
        "confirmation": "imaging appearance only",
        "objectives": ["Scroll and window a full CT series on a slow link"],
        "authors": [{"name": "Benchmark Educator"}],
        "provenance": [{"images": "images/", "source": "synthetic phantom made by the benchmark",
                        "licence": "CC0-1.0"}],
    })
    for cell in notebook.cells:
        cell.source = cell.source.replace("TODO: ", "").replace("TODO", "Written by the educator.")


def made_case(series: Path, root: Path) -> Path:
    """The folder of one case made from ``series`` the way an educator makes one; made once, then reused.

    De-identifying a few hundred slices takes a while; the key lives only as long as the making
    (nothing here needs it again, and keys may not sit inside the project).
    """
    import nbformat

    from readingroom.case import new_case

    cases = root / "cases"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="viewer-bench-key-") as keys:
            made = new_case(CASE_TITLE, series, cases, key_path=Path(keys) / "deid.key")
        path = made.folder / "case.ipynb"
        notebook = nbformat.read(path, as_version=4)
        fill_in(notebook)
        nbformat.write(notebook, path)
        (root / ".complete").touch()
    return next(path.parent for path in cases.glob("*/case.ipynb"))


def case_page_ready(server: Server, url: str, timeout: float = 900) -> None:
    """Until the case has been run once (the page answers only then) and the run's kernel is gone.

    The page is fetched outside the throttled browser; a notebook the case page cannot mount
    would be handed to Voila, which this benchmark must not measure as the case page.
    """
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        if 'id="rr-case-page"' not in reply.read().decode():
            raise SystemExit(f"{url} is not a kernel-free case page (served live by Voila?); see {server.log}")
    deadline = time.monotonic() + 60
    while server.kernels():
        if time.monotonic() > deadline:
            raise SystemExit(f"the case's kernel was still running 60 s after its page was made; see {server.log}")
        time.sleep(0.5)


def measure(browser, name: str, url: str, runner, args) -> dict:
    """One place in a fresh context on the throttled link (cache disabled), with what the page logged as errors."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(OBSERVER)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    throughput = args.mbit * 1e6 / 8
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": args.latency_ms,
                                                  "downloadThroughput": throughput, "uploadThroughput": throughput})
    traffic = Traffic(cdp)
    result = runner(page, traffic, url)
    result["frame_bytes_http"] = traffic.frame_bytes()
    result["console_errors"] = errors
    result["load_average_1min_at_end"] = os.getloadavg()[0]  # the machine is shared: what this place ran beside
    page.screenshot(path=str(DATA / f"viewer-rural-{re.sub(r'[^a-z]+', '-', name.lower())}.png"))
    context.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=300, help="at least 102: the run scrolls 50 slices from the middle")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--mbit", type=float, default=1.5)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--full-timeout", type=float, default=600, help="seconds to wait for the whole series")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--from-json", type=Path, help="write the README section from a previous run's JSON output")
    parser.add_argument("--stack-order", action="store_true",
                        help=f"the loading-order run instead, at {SLOW_MBIT * 1000:.0f} kbit/s and {SLOW_LATENCY_MS} ms")
    parser.add_argument("--stack-timeout", type=float, default=150, help="seconds to wait for the whole stack, per order")
    args = parser.parse_args()
    if args.stack_order:
        stack_order_main(args)
        return
    if args.from_json:
        figures = json.loads(args.from_json.read_text())
        write_figures(f"{BEGIN}\n{render(figures, argparse.Namespace(**figures['args']))}\n{END}", BEGIN, END, SECTION)
        return

    from playwright.sync_api import sync_playwright

    from readingroom.dicom import open_path
    from readingroom.dicom.synthetic import write_ct_phantom
    from readingroom.frames import FrameCache, encode_series
    from readingroom.server.catalog import public_id

    load_at_start = list(os.getloadavg())
    folder = DATA / f"ct-{args.size}x{args.slices}"
    cache = FrameCache(DATA / "cache")
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_ct_phantom(folder, slices=args.slices, size=args.size, pixel_spacing=(0.7, 0.7), slice_spacing=1.0)
        (folder / ".complete").touch()
    series = open_path(folder).series[0]
    t = time.perf_counter()
    manifest = encode_series(series, cache)
    encode_s = time.perf_counter() - t
    lossless_bytes = sum(cache.blob_path(d, "bin").stat().st_size for d in manifest["lossless"])
    preview_bytes = [cache.blob_path(d, "jpg").stat().st_size for d in manifest["preview"]]
    raw = args.slices * args.size * args.size * 2
    case = made_case(folder, DATA / f"case-{args.size}x{args.slices}")

    notebooks = DATA / "notebooks"
    notebooks.mkdir(parents=True, exist_ok=True)
    (notebooks / "viewer.ipynb").write_text(notebook(VIEWER_SOURCE.format(folder=str(folder))))
    (notebooks / "plain.ipynb").write_text(notebook(PLAIN_SOURCE.format(folder=str(folder), start=manifest["start"])))

    def env(name: str) -> dict:
        work = DATA / "run" / name
        shutil.rmtree(work, ignore_errors=True)
        return dict(isolated_env(work), READINGROOM_CACHE=str(cache.root))

    voila = Server([sys.executable, "-m", "readingroom.server.voila_app", str(notebooks), "--no-browser",
                    "--Voila.ip=127.0.0.1"], env("voila"), notebooks, DATA / "voila.log", "voila/static/voila.js")
    serve = Server([sys.executable, "-m", "readingroom", "serve", str(case.parent)], env("serve"), DATA,
                   DATA / "serve.log", "readingroom/catalog.json")
    try:
        case_url = f"{serve.url}cases/{public_id(case.name)}/"
        t = time.perf_counter()
        case_page_ready(serve, case_url)
        case_run_s = time.perf_counter() - t
        viewer = functools.partial(run_viewer, full_timeout=args.full_timeout)
        places = ((VOILA, voila.url + "voila/render/viewer.ipynb", viewer), (CASE_PAGE, case_url, viewer),
                  (PLAIN, voila.url + "voila/render/plain.ipynb", run_plain))
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            results = {name: measure(browser, name, url, runner, args) for name, url, runner in places}
            browser.close()
    finally:
        voila.stop()
        serve.stop()

    figures = {
        "encode_s": encode_s, "lossless_ratio": raw / lossless_bytes, "lossless_mb": lossless_bytes / 1e6,
        "preview_kb_median": statistics.median(preview_bytes) / 1e3, "raw_mb": raw / 1e6, "case_run_s": case_run_s,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "load_average_start": load_at_start,
        "load_average": list(os.getloadavg()), "results": results,
    }
    (DATA / "figures.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    if args.update_readme:
        write_figures(f"{BEGIN}\n{render(figures, args)}\n{END}", BEGIN, END, SECTION)


def phantom_manifest(args) -> tuple[dict, object]:
    """The benchmark's CT phantom (written once into .data), encoded into the frame cache."""
    from readingroom.dicom import open_path
    from readingroom.dicom.synthetic import write_ct_phantom
    from readingroom.frames import FrameCache, encode_series

    folder = DATA / f"ct-{args.size}x{args.slices}"
    cache = FrameCache(DATA / "cache")
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_ct_phantom(folder, slices=args.slices, size=args.size, pixel_spacing=(0.7, 0.7), slice_spacing=1.0)
        (folder / ".complete").touch()
    return encode_series(open_path(folder).series[0], cache), cache


def serve_frames(cache, manifest: dict) -> tuple[str, callable]:
    """Our routes (frames, modules) and the stack-order page on a free loopback port; (url, stop)."""
    import asyncio
    import threading

    from tornado import web

    from readingroom.server import routes
    from readingroom.widgets.assets import modules_version

    page = STACK_PAGE.replace("__VERSION__", modules_version()).replace("__MANIFEST__", json.dumps(manifest))

    class Page(web.RequestHandler):
        def get(self):
            self.set_header("Content-Type", "text/html")
            self.finish(page)

    port, started, held = free_port(), threading.Event(), {}

    def run():
        held["loop"] = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        web.Application(routes("/", cache) + [(r"/", Page)]).listen(port, "127.0.0.1")
        started.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    started.wait(10)
    return f"http://127.0.0.1:{port}/", lambda: held["loop"].call_soon_threadsafe(held["loop"].stop)


def measure_order(browser, url: str, manifest: dict, timeout: float) -> dict:
    """One order on the slow link: whole stack viewable, and the slice in view lossless after a jump and a stop."""
    context = browser.new_context(viewport={"width": 900, "height": 800})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    rate = SLOW_MBIT * 1e6 / 8
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": SLOW_LATENCY_MS,
                                                  "downloadThroughput": rate, "uploadThroughput": rate})
    page.goto(url, timeout=120_000)
    root = page.locator("[data-rr-viewer]")
    page.wait_for_function("window.__stack && window.__stack.first !== null", timeout=120_000)
    first = page.evaluate("window.__stack.first")
    page.wait_for_function(f"performance.now() > {first + 20_000}", timeout=60_000, polling=200)
    root.focus()
    for _ in range(10):
        page.keyboard.press("PageDown")  # 100 slices on, then the user stops there
    stop = page.evaluate("performance.now()")
    target = manifest["start"] + 100
    page.wait_for_function(f"(el) => el.dataset.frame === '{target}' && el.dataset.tier === 'lossless'",
                           arg=root.element_handle(), timeout=120_000, polling=50)
    in_view = page.evaluate("performance.now()") - stop
    try:
        page.wait_for_function("window.__stack.viewable !== null", timeout=max(1, timeout * 1000 - (stop - first)))
        viewable = (page.evaluate("window.__stack.viewable") - first) / 1000
    except Exception:  # not reached in time: say how far it got
        viewable = None
    out = {"first_image_s": first / 1000, "viewable_from_first_s": viewable, "lossless_after_stop_s": in_view / 1000,
           "viewable_at_end": int(root.get_attribute("data-loaded")), "lossless_at_end": int(root.get_attribute("data-lossless"))}
    context.close()
    return out


def stack_order_main(args) -> None:
    from playwright.sync_api import sync_playwright

    manifest, cache = phantom_manifest(args)
    url, stop = serve_frames(cache, manifest)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            results = {order: measure_order(browser, url + ("?order=before" if order == "before" else ""), manifest,
                                            args.stack_timeout) for order in ("current", "before")}
            browser.close()
    finally:
        stop()
    figures = {
        "preview_kb_median": statistics.median(cache.blob_path(d, "jpg").stat().st_size for d in manifest["preview"]) / 1e3,
        "lossless_kb_median": statistics.median(cache.blob_path(d, "bin").stat().st_size for d in manifest["lossless"]) / 1e3,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "load_average": list(os.getloadavg()), "results": results,
    }
    (DATA / "stack-order.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    if args.update_readme:
        write_figures(f"{STACK_BEGIN}\n{render_stack_order(figures, args)}\n{STACK_END}", STACK_BEGIN, STACK_END,
                      "## Issue 19: stacks on a 384 kbit/s link (viewer_rural_link.py --stack-order)")


def render_stack_order(f: dict, args) -> str:
    now, before = f["results"]["current"], f["results"]["before"]

    def viewable(r):
        v = r["viewable_from_first_s"]
        return f"{v:.1f} s" if v is not None else f"not reached in {args.stack_timeout:.0f} s ({r['viewable_at_end']} of {args.slices})"

    def ratio(a, b):
        return f"{b / a:.1f}x sooner" if a and b else "n/a"

    rows = [
        ("whole stack viewable, from the first image", viewable(now), viewable(before), "<= 60 s",
         now["viewable_from_first_s"] is not None and now["viewable_from_first_s"] <= 60),
        ("slice in view lossless after jumping 100 slices and stopping", f"{now['lossless_after_stop_s']:.1f} s",
         f"{before['lossless_after_stop_s']:.1f} s", "<= 3 s", now["lossless_after_stop_s"] <= 3),
        ("first image, from navigation start", f"{now['first_image_s']:.1f} s", f"{before['first_image_s']:.1f} s", "", None),
        ("lossless frames in the browser at the end", str(now["lossless_at_end"]), str(before["lossless_at_end"]), "", None),
    ]
    table = ["| figure | current order | order before | goal | met? |", "|---|---:|---:|---:|---|"]
    table += [f"| {a} | {b} | {c} | {g} | {'' if ok is None else 'yes' if ok else '**no**'} |" for a, b, c, g, ok in rows]
    return "\n".join([
        f"Synthetic CT {args.size}x{args.size}x{args.slices}, Chromium network emulation {SLOW_MBIT * 1000:.0f} kbit/s each "
        f"way, {SLOW_LATENCY_MS} ms latency, cache disabled; the viewer module on a plain page with our frame handler; "
        f"both orders in one run ({f['date']}, 1-min load average at the end {f['load_average'][0]:.1f} on a shared "
        f"2-core machine). Median frame: preview {f['preview_kb_median']:.1f} KB, lossless {f['lossless_kb_median']:.1f} KB.",
        "",
        *table,
        "",
        f"Stack viewable: {ratio(now['viewable_from_first_s'], before['viewable_from_first_s'] or args.stack_timeout)} "
        f"(the order before would need every lossless frame, {args.slices} x {f['lossless_kb_median']:.0f} KB).",
    ])


SHORT = {VOILA: "Voila", CASE_PAGE: "case page", PLAIN: "plain"}


def render(f: dict, args) -> str:
    results = f["results"]
    plain = results[PLAIN]

    def s(v, unit="s", nd=2):
        return "not reached" if v is None else f"{v:.{nd}f} {unit}"

    def kb(v):
        return f"{v / 1e3:.1f} KB"

    def full_series(r):
        if r is plain:
            return "never (one slice at a time)"
        done = r["full_series_from_mount_s"]
        if done is None:
            return f"not reached in {args.full_timeout:.0f} s ({r['loaded_at_timeout']} slices)"
        return s(done)

    def paint(r):
        if r["paint_ms_max"] is None:
            return "n/a (the kernel renders)"
        return f"{r['paint_ms_median']:.2f} / {r['paint_ms_max']:.2f} ms"

    ratio = f"{f['lossless_ratio']:.2f} : 1 ({f['lossless_mb']:.1f} MB for {f['raw_mb']:.0f} MB)"
    # (figure, cell per place, goal, goal met per place: True / False / None for not applicable)
    rows = [
        ("time to first image after the page's scripts are ready (load event)", lambda r: s(r["first_from_scripts_s"]),
         "<= 2 s", lambda r: r["first_from_scripts_s"] <= 2),
        ("bytes received after the page's scripts are ready, before the first image",
         lambda r: kb(r["bytes_before_first_after_scripts"]), "<= 150 KB",
         lambda r: r["bytes_before_first_after_scripts"] <= 150e3),
        ("time to first image after the widget is on the page", lambda r: s(r["first_from_mount_s"]), "", None),
        ("bytes after the widget is on the page, before its first image",
         lambda r: kb(r["bytes_before_first_after_mount"]), "", None),
        ("time to first image from navigation start", lambda r: s(r["first_from_nav_s"]), "", None),
        ("all bytes before the first image, page included", lambda r: kb(r["bytes_before_first"]), "", None),
        ("work per scroll frame (paint), median / max", paint, "<= 16.7 ms",
         lambda r: None if r["paint_ms_max"] is None else r["paint_ms_max"] <= 16.7),
        ("median time from key press to the next slice on screen",
         lambda r: s(r["step_latency_ms_median"], "ms", 1), "", None),
        ("bytes from the kernel, 50 scroll steps + 20 window changes", lambda r: kb(r["kernel_bytes_interaction"]),
         "0 pixel bytes", lambda r: r["transport"] == "http"),
        ("frames came over", lambda r: r["transport"], "", None),
        ("time until every slice is in the browser (lossless), from the widget on the page", full_series, "", None),
        ("lossless tier vs raw int16", lambda r: "n/a" if r is plain else ratio, ">= 2.5 : 1",
         lambda r: None if r is plain else f["lossless_ratio"] >= 2.5),
    ]

    def met(test) -> str:
        found = [(SHORT[name], test(r)) for name, r in results.items()] if test else []
        return ", ".join(f"{name} {'yes' if ok else '**no**'}" for name, ok in found if ok is not None)

    table = [f"| figure | {' | '.join(results)} | goal | met? |", "|---|" + "---:|" * len(results) + "---:|---|"]
    table += [f"| {label} | {' | '.join(cell(r) for r in results.values())} | {goal} | {met(test)} |"
              for label, cell, goal, test in rows]
    goals = [(label, goal, test) for label, _, goal, test in rows if test]
    verdicts = []
    for name, r in results.items():
        met_here = [f"{label} {goal}" for label, goal, test in goals if test(r) is True]
        missed = [f"{label} {goal}" for label, goal, test in goals if test(r) is False]
        verdicts.append(f"- {name}: meets {len(met_here)} of {len(met_here) + len(missed)} goals"
                        + (f"; misses: {'; '.join(missed)}" if missed else "") + ".")
    errors = [f"{name}: {len(r['console_errors'])} ({'; '.join(r['console_errors'])[:300]})"
              for name, r in results.items() if r["console_errors"]]
    mount_after_load = {name: r["first_from_scripts_s"] - r["first_from_mount_s"] for name, r in results.items()}
    voila = results[VOILA]
    voila_between = voila["bytes_before_first_after_scripts"] - voila["bytes_before_first_after_mount"]
    timeout_option = "" if args.full_timeout == 600 else f" --full-timeout {args.full_timeout:.0f}"
    lines = [
        "Goals from issue 3. \"Page scripts ready\" is the window load event; \"widget on the page\" is when the first "
        "widget view is attached (Voila: the first Jupyter widget view in an output; case page: the first widget mounted "
        "from the page's saved state). For readingroom both come before its manifest or any frame has arrived.",
        "",
        f"Synthetic CT {args.size}x{args.size}x{args.slices}, Chromium network emulation {args.mbit} Mbit/s each way, "
        f"{args.latency_ms:.0f} ms latency, browser cache disabled. Same run, same link, three places:",
        "",
        f"- {VOILA}: `Viewer(folder)` in a one-cell notebook served by our Voila app (`readingroom.server.voila_app`), "
        "a kernel per visitor;",
        f"- {CASE_PAGE}: a case made from the same series with `readingroom.case.new_case` and filled in as an educator "
        "would, served by `readingroom serve`, which ran it once; the page mounts the viewer from its saved state, no kernel;",
        f"- {PLAIN}: an ipywidgets slider + window fields in the same Voila app; the kernel renders a PNG per change with matplotlib.",
        "",
        *table,
        "",
        "Which goals are met where:",
        *verdicts,
        "",
        "Secondary:",
        "- The first widget view came " + ", ".join(
            f"{SHORT[name]} {abs(gap):.2f} s {'after' if gap >= 0 else 'before'} the load event"
            for name, gap in mount_after_load.items()) + f". In Voila {kb(voila_between)} arrive in between (its widget "
        "manager's chunks and the kernel's widget messages), the same for readingroom and plain; the case page has no "
        "widget manager, and its modules are module scripts, which run before the load event.",
        "- Key-to-slice times are measured from Playwright (one round trip to the browser included); the paint work is "
        "measured inside the viewer (`data-paint-ms`).",
        *(f"- {name}: first shows the {f['preview_kb_median']:.1f} KB (median) JPEG preview of the starting slice, then "
          f"its lossless frame {s(r['lossless_from_mount_s'])} after the widget appeared; "
          f"{r['frame_bytes_http'] / 1e6:.1f} MB of frames over HTTP in the run."
          for name, r in results.items() if r is not plain),
        f"- The kernel bytes of {VOILA} are view-state echoes and kernel status messages, no pixels; the case page has "
        "no kernel. Browser to kernel during the interaction: "
        + ", ".join(f"{SHORT[name]} {kb(r['browser_to_kernel_bytes_interaction'])}" for name, r in results.items()) + ".",
        "- Step latency max (single steps; they move with the machine's load): "
        + ", ".join(f"{SHORT[name]} {r['step_latency_ms_max']:.1f} ms" for name, r in results.items())
        + "; 1-minute load average as each place finished: "
        + ", ".join(f"{SHORT[name]} {r['load_average_1min_at_end']:.2f}" for name, r in results.items()) + ".",
        f"- Errors the pages logged in the console: {'; '.join(errors) if errors else 'none'}.",
        (f"- One-time encoding of the series into the frame cache: {f['encode_s']:.1f} s (2 threads)."
         if f["encode_s"] >= 1 else "- The series was already in the frame cache from an earlier run (a cold encode of "
         "these 300 slices takes 6-25 s on this shared 2-core machine, 2 threads)."),
        f"- `readingroom serve` had the case page ready {f['case_run_s']:.1f} s after it answered (its one run of the case).",
        f"- Date: {f['date']}; machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in f['load_average_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in f['load_average'])} (other jobs shared the machine).",
        f"- Command: `.venv/bin/python benchmarks/viewer_rural_link.py --update-readme{timeout_option}`",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

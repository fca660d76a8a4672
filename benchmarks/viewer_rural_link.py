"""The viewer on a rural link: readingroom's viewer vs the plain approach, same run, same link.

A synthetic 512x512x300 CT phantom is shown in our Voila app under Chromium's
network emulation (default 1.5 Mbit/s both ways, 300 ms latency):

* readingroom: ``Viewer(folder)``; frames come over HTTP from the frame cache
  (encoded once beforehand, as ``readingroom new`` does for a case), windowing
  and scrolling run in the browser;
* plain: an ipywidgets slider + window sliders; the kernel renders a PNG per
  change with matplotlib and sends it through the comm.

Measured per approach: bytes received before the first image, time to first image
(from navigation start, and from when the widget was on the page), time until
every slice is in the browser, work per scroll frame, and bytes the kernel sent
while scrolling 50 frames and changing the window 20 times.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python benchmarks/viewer_rural_link.py --update-readme
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from harness import CHROMIUM, CHROMIUM_ARGS, free_port

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "viewer"
BEGIN, END = "<!-- viewer_rural_link.py figures: begin -->", "<!-- viewer_rural_link.py figures: end -->"

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

OBSERVER = """
window.__rr = { mounted: null, first: null, lossless: null, all: null, scripts: null };
window.addEventListener("load", () => { window.__rr.scripts = performance.now(); });
new MutationObserver(() => {
  const root = document.querySelector("[data-rr-viewer]");
  const img = document.querySelector(".widget-image");
  const now = performance.now();
  if (document.querySelector(".jp-OutputArea-output > .lm-Widget") && window.__rr.mounted === null) window.__rr.mounted = now;
  if (img && img.src && window.__rr.first === null) { window.__rr.first = now; window.__rr.lossless = now; }
  if (!root) return;
  const tier = root.dataset.tier;
  if ((tier === "preview" || tier === "lossless") && window.__rr.first === null) window.__rr.first = now;
  if (tier === "lossless" && window.__rr.lossless === null) window.__rr.lossless = now;
  if (root.dataset.frames && root.dataset.loaded === root.dataset.frames && window.__rr.all === null) window.__rr.all = now;
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


def run_viewer(page, traffic, url: str, full_timeout: float) -> dict:
    page.goto(url)
    page.wait_for_function("window.__rr && window.__rr.lossless !== null", timeout=120_000)
    marks = page.evaluate("window.__rr")
    root = page.locator("[data-rr-viewer]")
    t_first = wall(page, marks["first"])
    out = {
        "first_from_nav_s": marks["first"] / 1000,
        "first_from_mount_s": (marks["first"] - marks["mounted"]) / 1000,
        "first_from_scripts_s": (marks["first"] - marks["scripts"]) / 1000,
        "lossless_from_mount_s": (marks["lossless"] - marks["mounted"]) / 1000,
        "bytes_before_first": traffic.bytes_until(t_first),
        "bytes_before_first_after_mount": traffic.bytes_until(t_first) - traffic.bytes_until(wall(page, marks["mounted"])),
        "bytes_before_first_after_scripts": traffic.bytes_until(t_first) - traffic.bytes_until(wall(page, marks["scripts"])),
        "transport": root.get_attribute("data-transport"),
    }
    try:
        page.wait_for_function("window.__rr.all !== null", timeout=full_timeout * 1000)
        marks = page.evaluate("window.__rr")
        out["full_series_from_mount_s"] = (marks["all"] - marks["mounted"]) / 1000
    except Exception:  # noqa: BLE001 - reported as not reached
        out["full_series_from_mount_s"] = None
        out["loaded_at_timeout"] = int(root.get_attribute("data-loaded"))
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
    page.goto(url)
    page.wait_for_function("window.__rr && window.__rr.first !== null", timeout=180_000)
    marks = page.evaluate("window.__rr")
    t_first = wall(page, marks["first"])
    out = {
        "first_from_nav_s": marks["first"] / 1000,
        "first_from_mount_s": (marks["first"] - marks["mounted"]) / 1000,
        "first_from_scripts_s": (marks["first"] - marks["scripts"]) / 1000,
        "bytes_before_first": traffic.bytes_until(t_first),
        "bytes_before_first_after_mount": traffic.bytes_until(t_first) - traffic.bytes_until(wall(page, marks["mounted"])),
        "bytes_before_first_after_scripts": traffic.bytes_until(t_first) - traffic.bytes_until(wall(page, marks["scripts"])),
        "full_series_from_mount_s": None,
        "transport": "comm (PNG per change)",
    }
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=300, help="at least 102: the run scrolls 50 slices from the middle")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--mbit", type=float, default=1.5)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--full-timeout", type=float, default=600, help="seconds to wait for the whole series")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--from-json", type=Path, help="write the README section from a previous run's JSON output")
    args = parser.parse_args()
    if args.from_json:
        figures = json.loads(args.from_json.read_text())
        update_readme(render(figures, argparse.Namespace(**figures["args"])))
        return

    from playwright.sync_api import sync_playwright

    from readingroom.dicom import open_path
    from readingroom.dicom.synthetic import write_ct_phantom
    from readingroom.frames import FrameCache, encode_series

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

    notebooks = DATA / "notebooks"
    notebooks.mkdir(parents=True, exist_ok=True)
    (notebooks / "viewer.ipynb").write_text(notebook(VIEWER_SOURCE.format(folder=str(folder))))
    (notebooks / "plain.ipynb").write_text(notebook(PLAIN_SOURCE.format(folder=str(folder), start=manifest["start"])))

    env = dict(os.environ, READINGROOM_CACHE=str(cache.root), JUPYTER_PLATFORM_DIRS="1")
    home = DATA / "jupyter"
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    port = free_port()
    log = (DATA / "voila.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "readingroom.server.voila_app", str(notebooks), "--no-browser",
                               f"--port={port}", "--Voila.ip=127.0.0.1"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "voila/static/voila.js", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        results = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, runner in (("readingroom", run_viewer), ("plain", run_plain)):
                context = browser.new_context(viewport={"width": 1100, "height": 900})
                page = context.new_page()
                page.add_init_script(OBSERVER)
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                throughput = args.mbit * 1e6 / 8
                cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": args.latency_ms,
                                                              "downloadThroughput": throughput, "uploadThroughput": throughput})
                traffic = Traffic(cdp)
                url = base + f"voila/render/{'viewer' if name == 'readingroom' else 'plain'}.ipynb"
                results[name] = runner(page, traffic, url, args.full_timeout) if name == "readingroom" else runner(page, traffic, url)
                if name == "readingroom":
                    results[name]["frame_bytes_http"] = traffic.frame_bytes()
                    page.screenshot(path=str(DATA / "viewer-rural.png"))
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(30)

    figures = {
        "encode_s": encode_s, "lossless_ratio": raw / lossless_bytes, "lossless_mb": lossless_bytes / 1e6,
        "preview_kb_median": statistics.median(preview_bytes) / 1e3, "raw_mb": raw / 1e6,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "load_average": list(os.getloadavg()),
        "results": results,
    }
    print(json.dumps(figures, indent=2))
    if args.update_readme:
        update_readme(render(figures, args))


def render(f: dict, args) -> str:
    r, p = f["results"]["readingroom"], f["results"]["plain"]

    def s(v, unit="s", nd=2):
        return "not reached" if v is None else f"{v:.{nd}f} {unit}"

    def kb(v):
        return f"{v / 1e3:.1f} KB"

    full = r["full_series_from_mount_s"]
    lines = [
        "Goals from issue 3. \"Page scripts ready\" is the window load event; \"widget on the page\" is when the first "
        "Jupyter widget view is attached (for readingroom: before its module, manifest or any frame has arrived).",
        "",
        f"Synthetic CT {args.size}x{args.size}x{args.slices} in our Voila app, Chromium network emulation "
        f"{args.mbit} Mbit/s each way, {args.latency_ms:.0f} ms latency, browser cache disabled. Same run, same link.",
        "",
        "| figure | readingroom | plain (kernel PNG per change) | ratio plain/readingroom | goal | met? |",
        "|---|---:|---:|---:|---:|:---:|",
        f"| time to first image after the widget is on the page | {s(r['first_from_mount_s'])} | "
        f"{s(p['first_from_mount_s'])} (arrives with the widget) | | <= 2 s | {'yes' if r['first_from_mount_s'] <= 2 else '**no**'} |",
        f"| bytes after the widget is on the page, before its first image | {kb(r['bytes_before_first_after_mount'])} | "
        f"{kb(p['bytes_before_first_after_mount'])} | | <= 150 KB | {'yes' if r['bytes_before_first_after_mount'] <= 150e3 else '**no**'} |",
        f"| time to first image after the page's scripts are ready (load event) | {s(r['first_from_scripts_s'])} | {s(p['first_from_scripts_s'])} | "
        f"{p['first_from_scripts_s'] / r['first_from_scripts_s']:.1f} | <= 2 s | {'yes' if r['first_from_scripts_s'] <= 2 else '**no**'} |",
        f"| bytes received after the page's scripts are ready, before the first image | {kb(r['bytes_before_first_after_scripts'])} | "
        f"{kb(p['bytes_before_first_after_scripts'])} | {p['bytes_before_first_after_scripts'] / max(r['bytes_before_first_after_scripts'], 1):.1f} | <= 150 KB | "
        f"{'yes' if r['bytes_before_first_after_scripts'] <= 150e3 else '**no**'} |",
        f"| median time from key press to the next slice on screen | {s(r['step_latency_ms_median'], 'ms', 1)} | {s(p['step_latency_ms_median'], 'ms', 0)} | "
        f"{p['step_latency_ms_median'] / r['step_latency_ms_median']:.0f} | | |",
        f"| work per scroll frame (paint), median / max | {r['paint_ms_median']:.2f} / {r['paint_ms_max']:.2f} ms | n/a (kernel renders) | | <= 16.7 ms | "
        f"{'yes' if r['paint_ms_max'] <= 16.7 else '**no**'} |",
        f"| bytes from the kernel, 50 scroll steps + 20 window changes | {kb(r['kernel_bytes_interaction'])} | {kb(p['kernel_bytes_interaction'])} | "
        f"{p['kernel_bytes_interaction'] / max(r['kernel_bytes_interaction'], 1):.0f} | 0 pixel bytes | "
        f"{'yes' if r['transport'] == 'http' else '**no**'} (frames over {r['transport']}; the kernel bytes are view-state echoes and kernel status messages) |",
        f"| time until every slice is in the browser (lossless) | {s(full) if full else 'not reached in ' + str(int(args.full_timeout)) + ' s'} | never (one slice at a time) | | | |",
        f"| lossless tier vs raw int16 | {f['lossless_ratio']:.2f} : 1 ({f['lossless_mb']:.1f} MB for {f['raw_mb']:.0f} MB) | n/a | | >= 2.5 : 1 | "
        f"{'yes' if f['lossless_ratio'] >= 2.5 else '**no**'} |",
        "",
        "Secondary:",
        "- After the load event Voila still fetches its widget-manager chunks (about 0.5 MB gzipped) before any widget "
        "can render; that cost is the same for both approaches and dominates the load-event rows.",
        "- Key-to-slice times are measured from Playwright (one round trip to the browser included); the paint work is "
        "measured inside the viewer (`data-paint-ms`).",
        f"- Time to first image from navigation start (includes Voila's own page, scripts and kernel start): "
        f"readingroom {s(r['first_from_nav_s'])}, plain {s(p['first_from_nav_s'])}; all bytes before the first image, "
        f"page included: readingroom {kb(r['bytes_before_first'])}, plain {kb(p['bytes_before_first'])}.",
        f"- readingroom first shows the {f['preview_kb_median']:.1f} KB (median) JPEG preview of the starting slice, then its "
        f"lossless frame ({s(r['lossless_from_mount_s'])} after the widget appeared); frames came over {r['transport']}.",
        f"- Browser to kernel during the interaction: readingroom {kb(r['browser_to_kernel_bytes_interaction'])} (debounced view-state saves), "
        f"plain {kb(p['browser_to_kernel_bytes_interaction'])}.",
        f"- Step latency max: readingroom {r['step_latency_ms_max']:.1f} ms, plain {p['step_latency_ms_max']:.0f} ms.",
        (f"- One-time encoding of the series into the frame cache: {f['encode_s']:.1f} s (2 threads)."
         if f["encode_s"] >= 1 else "- The series was already in the frame cache from an earlier run (a cold encode of these "
         "300 slices takes 6-25 s on this shared 2-core machine, 2 threads)."),
        f"- Date: {f.get('date', '?')}; machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}; load average at end {', '.join(f'{x:.2f}' for x in f.get('load_average', []))} "
        "(other jobs shared the machine)",
        "- Command: `.venv/bin/python benchmarks/viewer_rural_link.py --update-readme`",
    ]
    return "\n".join(lines)


def update_readme(body: str) -> None:
    readme = HERE / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    block = f"{BEGIN}\n{body}\n{END}"
    if BEGIN in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n## Viewer on a rural link\n\n" + block + "\n"
    readme.write_text(text)


if __name__ == "__main__":
    main()

"""A live conference on one machine: presenter-to-participant latency, join time, server CPU and memory.

One presenter changes frame 10 times a second for 60 s; 200 simulated participants
(websocket clients speaking docs/conference-protocol.md) and 5 real Chromium
participants (joined through the join page, like a person) follow. Every `view`
message carries the presenter's clock `t` (epoch ms); every participant, on the
same machine, records receive time - t. In the same run, the plain way: a plain
Voila page (and so a kernel) per participant, K of them opened at once.

Processes, so that the clocks are fair: the serving app (`readingroom conference
start`) alone in its process; the presenter alone in its own asyncio process
(its 10 Hz clock is never held up by receivers); the simulated participants in
one asyncio process; Chromium and this orchestrating script in the others.

    .venv/bin/python benchmarks/conference_latency.py --update-readme
    .venv/bin/python benchmarks/conference_latency.py --participants 20 --seconds 5 --browsers 1 --plain 2   # dry run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urljoin

import psutil
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from harness import CHROMIUM, CHROMIUM_ARGS, free_port, isolated_env, kernels, stop, wait_http, write_figures

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
DATA = HERE / ".data" / "conference"
SECTION = "## Live conference"
BEGIN, END = "<!-- conference_latency.py figures: begin -->", "<!-- conference_latency.py figures: end -->"
PHANTOM = {"slices": 120, "size": 512, "pixel_spacing": (0.7, 0.7), "slice_spacing": 1.5}
SLUG = "benchmark-phantom"
PAINTED = '[data-rr-viewer][data-tier="preview"], [data-rr-viewer][data-tier="lossless"]'
# marks when the first case image is painted, in ms from navigation start (plain Voila pages)
PAINT_OBSERVER = """
window.__rrPainted = null;
new MutationObserver(() => {
  if (window.__rrPainted === null && document.querySelector('%s')) window.__rrPainted = performance.now();
}).observe(document, { subtree: true, childList: true, attributes: true });
""" % PAINTED.replace("'", "\\'")
GOALS = {"p95_ms": 200, "join_s": 2.0, "mb_per_participant": 1.0}
console = Console()


# ---------------------------------------------------------------- the case and the environment

def phantom_case() -> Path:
    """A 512x512x120 synthetic CT made into a case with `readingroom new`, written once into benchmarks/.data/.

    The sample cases in cases/ hold one frame each, so stepping the frame 10 times a
    second would show followers nothing new; the phantom gives them a real slice to
    paint on every step.
    """
    case = DATA / "cases" / SLUG
    if (case / ".complete").exists():
        return case
    shutil.rmtree(DATA / "cases", ignore_errors=True)
    from readingroom.dicom.synthetic import write_ct_phantom

    source = DATA / "phantom"
    shutil.rmtree(source, ignore_errors=True)
    write_ct_phantom(source, **PHANTOM)
    with tempfile.TemporaryDirectory() as keys:  # a de-identification key must live outside the project
        _run([sys.executable, "-m", "readingroom", "new", "Benchmark phantom", "--from", str(source),
              "--cases", str(DATA / "cases"), "--key", str(Path(keys) / "deid.key")])
    notebook = case / "case.ipynb"
    nb = json.loads(notebook.read_text())
    nb["metadata"]["readingroom"]["system"] = "neuro"
    text = json.dumps(nb).replace("TODO: ", "").replace("TODO", "A synthetic phantom for the conference benchmark.")
    notebook.write_text(text)
    _run([sys.executable, "-m", "readingroom", "check", str(case)])
    (case / ".complete").touch()
    return case


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args[2:])} failed:\n{done.stdout}{done.stderr}")


def warm_frame_cache(case: Path, cache: Path) -> int:
    """Encode the case's series once before anything is timed, as `readingroom new` leaves it; returns frames."""
    from readingroom.dicom import open_path
    from readingroom.frames import FrameCache, encode_series

    series = open_path(case / "images").series[0]
    encode_series(series, FrameCache(cache))
    return series.frame_count


def rss_mb(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 1e6


def cpu_seconds(*roots: psutil.Process, children: bool = True) -> float:
    """User + system seconds of `roots` (and their children): how the machine's CPU was shared during the run."""
    total = 0.0
    for p in [q for root in roots for q in [root, *(root.children(recursive=True) if children else [])]]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


# ---------------------------------------------------------------- the conference server

class Conference:
    """`readingroom conference start CASE` in its own process; the URLs and code it prints."""

    PRESENTER = re.compile(r"(https?://\S+?/readingroom/conference/(\d+)/present\?token=([\w\-]+))")
    JOIN = re.compile(r"(https?://\S+?/join(?:/([A-Z2-9]{6}))?)\b")
    CODE = re.compile(r"\b([ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6})\b")

    def __init__(self, cases: Path, slug: str, env: dict, work: Path, extra: tuple[str, ...] = ()):
        self.port = free_port()
        self.log = work / "conference.log"
        args = [sys.executable, "-m", "readingroom", "conference", "start", slug, "--cases", str(cases),
                f"--port={self.port}", f"--records=sqlite:///{work / 'records.sqlite'}", f"--qr={work / 'join.png'}", *extra]
        self.proc = subprocess.Popen(args, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.presenter_url = self.join_url = self.code = None
        found = threading.Event()
        threading.Thread(target=self._read, args=(found,), daemon=True).start()
        if not found.wait(180):
            stop(self.proc)
            raise SystemExit(f"`{' '.join(args[2:])}` printed no presenter URL and join code:\n{self.log.read_text()[-3000:]}")
        self.base = self.presenter_url.split("readingroom/conference/")[0]
        self.session = int(self.PRESENTER.search(self.presenter_url).group(2))
        self.token = self.PRESENTER.search(self.presenter_url).group(3)
        wait_http(self.base + f"join/{self.code}", self.proc, self.log)
        self.process = psutil.Process(self.proc.pid)

    def _read(self, found: threading.Event) -> None:
        with self.log.open("w") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                if m := self.PRESENTER.search(line):
                    self.presenter_url = m.group(1)
                elif m := self.JOIN.search(line):
                    self.join_url = m.group(1)
                    self.code = m.group(2) or self.code
                elif (m := self.CODE.search(line)) and "code" in line.lower():
                    self.code = m.group(1)
                if self.presenter_url and self.code and not found.is_set():
                    found.set()

    @property
    def presenter_ws(self) -> str:
        return ws_url(self.base + f"readingroom/conference/{self.session}/ws?token={self.token}")


def ws_url(url: str) -> str:
    return "ws" + url[len("http"):] if url.startswith("http") else url


# ---------------------------------------------------------------- the presenter (own process)

def presenter_process(url: str, view: dict, frames: int, rate: float, seconds: float,
                      ready, go, end, results) -> None:
    asyncio.run(_present(url, view, frames, rate, seconds, ready, go, end, results))


async def _present(url, view, frames, rate, seconds, ready, go, end, results) -> None:
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    async with connect(url, max_size=2 ** 20, ping_interval=None) as ws:
        welcome = json.loads(await ws.recv())
        view = {**view, **(welcome.get("view") or {})}
        # the console opening on the case publishes its view: followers who join find the case on screen
        await ws.send(json.dumps({"type": "view", "view": view, "t": time.time() * 1000}))
        received = {"messages": 0}

        async def drain():  # roster and questions arrive all the time; keep the socket's buffer empty
            async for _ in ws:
                received["messages"] += 1

        drainer = asyncio.create_task(drain())
        ready.set()
        await loop.run_in_executor(None, go.wait)
        count, late = int(seconds * rate), []
        first, start = int(view.get("frame", 0)), loop.time()
        for i in range(count):
            target = start + i / rate
            await asyncio.sleep(max(0.0, target - loop.time()))
            late.append((loop.time() - target) * 1000)
            view = {**view, "frame": (first + i + 1) % frames}
            await ws.send(json.dumps({"type": "view", "view": view, "t": time.time() * 1000}))
        results.put({"sent": count, "schedule_late_ms_p50": statistics.median(late), "schedule_late_ms_max": max(late),
                     "elapsed_s": loop.time() - start, "welcome_keys": sorted(welcome), "received": received["messages"]})
        await loop.run_in_executor(None, end.wait)
        await ws.send(json.dumps({"type": "end"}))
        await asyncio.sleep(1.0)
        drainer.cancel()


# ---------------------------------------------------------------- simulated participants (own process)

def participants_process(base: str, code: str, count: int, joined, stop_event, results) -> None:
    asyncio.run(_participants(base, code, count, joined, stop_event, results))


async def _participants(base, code, count, joined, stop_event, results) -> None:
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=count)
    http = AsyncHTTPClient()
    sockets: list = []
    loop = asyncio.get_running_loop()
    join_done = [loop.create_future() for _ in range(count)]
    tasks = [asyncio.create_task(_participant(http, base, code, i, join_done[i], sockets)) for i in range(count)]
    await asyncio.gather(*join_done)
    joined.set()
    await loop.run_in_executor(None, stop_event.wait)
    await asyncio.sleep(1.0)  # the `ended` message first, if the server sends one
    for ws in list(sockets):
        await ws.close()
    results.put(await asyncio.gather(*tasks))


async def _participant(http, base: str, code: str, i: int, join_done, sockets: list) -> dict:
    """Join like the join page does (GET the form, POST the API with its _xsrf), then follow until the end."""
    from websockets.asyncio.client import connect

    out = {"join_s": None, "join_total_s": None, "post_s": None, "latencies_ms": [], "error": None, "ended": False}
    try:
        t_page = time.perf_counter()
        page = await http.fetch(base + f"join/{code}", raise_error=False)
        cookie = SimpleCookie()
        for header in page.headers.get_list("Set-Cookie"):
            cookie.load(header)
        xsrf = cookie["_xsrf"].value if "_xsrf" in cookie else os.urandom(16).hex()
        t_post = time.perf_counter()
        reply = await http.fetch(base + "readingroom/conference/join", method="POST", raise_error=False,
                                 body=json.dumps({"code": code, "name": f"Participant {i + 1}"}),
                                 headers={"Content-Type": "application/json", "X-XSRFToken": xsrf,
                                          "Cookie": f"_xsrf={xsrf}"})
        if reply.code != 200:
            raise RuntimeError(f"join API answered {reply.code}: {reply.body[:200]!r}")
        out["post_s"] = time.perf_counter() - t_post
        answer = json.loads(reply.body)
        url = urljoin(base, answer["ws_url"])
        if "ticket=" not in url:
            url += ("&" if "?" in url else "?") + f"ticket={answer['ticket']}"
        ws = await connect(ws_url(url), max_size=2 ** 20, ping_interval=None)
        sockets.append(ws)
        while json.loads(await ws.recv()).get("type") != "welcome":
            pass
        now = time.perf_counter()
        out["join_s"], out["join_total_s"] = now - t_post, now - t_page
    except Exception as exc:  # noqa: BLE001 - counted and reported, one failed participant must not stop the others
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
        join_done.set_result(False)
        return out
    join_done.set_result(True)
    try:
        async for raw in ws:
            received = time.time() * 1000
            message = json.loads(raw)
            if message.get("type") == "view" and "t" in message:
                out["latencies_ms"].append(received - message["t"])
            elif message.get("type") == "ended":
                out["ended"] = True
    except Exception:  # noqa: BLE001 - the socket closed at the end of the run
        pass
    return out


# ---------------------------------------------------------------- Chromium participants

def chromium_join(browser, join_url: str, name: str) -> tuple:
    """A person's join: open the join page, type a name, press Join; timed until the follower's first image."""
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.goto(join_url)
    page.locator("input[name=name]").fill(name)
    started = time.perf_counter()
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_function("() => (document.getElementById('you') || {}).textContent", timeout=60_000)  # welcome
    welcomed = time.perf_counter() - started
    page.wait_for_selector(PAINTED, timeout=60_000)
    return context, page, welcomed, time.perf_counter() - started


# ---------------------------------------------------------------- the plain way

def plain_way(case: Path, env: dict, work: Path, pages: int, browser, timeout: float) -> dict:
    """K plain Voila pages of the same case opened at once (a kernel each): time to first image and memory."""
    folder = work / "plain" / case.name
    shutil.copytree(case, folder, ignore=shutil.ignore_patterns(".complete"))
    port = free_port()
    log = work / "plain-voila.log"
    proc = subprocess.Popen([sys.executable, "-m", "voila", str(folder / "case.ipynb"), "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1"], env=env, cwd=folder, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url + "voila/static/voila.js", proc, log)
        server = psutil.Process(proc.pid)
        before = rss_mb([server])
        contexts, opened = [], []
        for _ in range(pages):
            context = browser.new_context(viewport={"width": 1000, "height": 800})
            context.add_init_script(PAINT_OBSERVER)
            page = context.new_page()
            page.goto(url, wait_until="commit")  # all K navigations start within a few ms: everyone joins at once
            contexts.append(context)
            opened.append(page)
        joins, deadline = [], time.monotonic() + timeout
        for page in opened:  # a page not painted by the deadline is reported as not reached, not dropped
            try:
                page.wait_for_function("window.__rrPainted !== null", timeout=max(1.0, deadline - time.monotonic()) * 1000)
                joins.append(page.evaluate("window.__rrPainted") / 1000)
            except PlaywrightTimeout:
                joins.append(None)
        time.sleep(2)  # let the kernels settle after their first output
        kernel_mb = rss_mb(kernels(server))
        server_delta = rss_mb([server]) - before
        count = len(kernels(server))
        for context in contexts:
            context.close()
    finally:
        stop(proc)
    return {"pages": pages, "kernels": count, "join_s": joins, "kernel_mb": kernel_mb, "server_delta_mb": server_delta,
            "mb_per_participant": (kernel_mb + server_delta) / pages}


# ---------------------------------------------------------------- the run

def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def run(args) -> dict:
    from playwright.sync_api import sync_playwright

    DATA.mkdir(parents=True, exist_ok=True)
    case_src = phantom_case() if args.case == SLUG else HERE.parent / "cases" / args.case
    work = Path(tempfile.mkdtemp(prefix="conference-bench-"))
    cases = work / "cases"
    shutil.copytree(case_src, cases / case_src.name, ignore=shutil.ignore_patterns(".complete"))
    env = isolated_env(work)
    console.log("encoding the case's frames into the (temporary) frame cache, untimed")
    frames = warm_frame_cache(cases / case_src.name, work / "frames")
    mp = multiprocessing.get_context("spawn")
    figures: dict = {"args": vars(args), "frames": frames, "load_start": os.getloadavg(),
                     "date": f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"}

    console.log(f"starting `readingroom conference start {case_src.name}`")
    conf = Conference(cases, case_src.name, env, work)
    console.log(f"presenter {conf.presenter_url}\njoin code {conf.code}, join page {conf.join_url}")
    try:
        server = conf.process
        time.sleep(2)
        figures["kernels_before"] = len(kernels(server))
        figures["rss_start_mb"] = rss_mb([server])

        ready, go, end, joined, stop_event = mp.Event(), mp.Event(), mp.Event(), mp.Event(), mp.Event()
        presenter_q, participants_q = mp.Queue(), mp.Queue()
        from readingroom.server.catalog import public_id

        view = {"case": public_id(case_src.name), "series": 0, "frame": 0, "window": [40, 80], "zoom": 1.0,
                "pan": [0.0, 0.0], "invert": False, "annotations": [], "hidden_groups": [], "stage": 0}
        presenter = mp.Process(target=presenter_process, args=(conf.presenter_ws, view, frames, args.rate, args.seconds,
                                                               ready, go, end, presenter_q), daemon=True)
        presenter.start()
        if not ready.wait(60):
            raise SystemExit("the presenter's websocket got no welcome within 60 s")
        figures["rss_presenter_mb"] = rss_mb([server])

        console.log(f"{args.participants} simulated participants join at once")
        t_joins = time.perf_counter()
        crowd = mp.Process(target=participants_process, args=(conf.base, conf.code, args.participants, joined,
                                                              stop_event, participants_q), daemon=True)
        crowd.start()
        if not joined.wait(300):
            raise SystemExit("the simulated participants had not all joined (or failed) within 300 s")
        figures["crowd_join_wall_s"] = time.perf_counter() - t_joins

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            console.log(f"{args.browsers} Chromium participants join through the join page")
            followers, browser_joins = [], []
            for i in range(args.browsers):
                context, page, welcomed, painted = chromium_join(browser, conf.base + f"join/{conf.code}", f"Browser {i + 1}")
                followers.append((context, page))
                browser_joins.append({"welcome_s": welcomed, "painted_s": painted})
            time.sleep(2)
            figures["rss_joined_mb"] = rss_mb([server])
            figures["kernels_joined"] = len(kernels(server))

            console.log(f"the presenter steps the frame {args.rate:g} times a second for {args.seconds:g} s")
            others = [psutil.Process(crowd.pid), psutil.Process(presenter.pid)]
            browsers = [c for c in psutil.Process().children() if c.pid not in {server.pid, crowd.pid, presenter.pid}]
            cpu0 = {"server": cpu_seconds(server), "simulated participants": cpu_seconds(others[0]),
                    "presenter": cpu_seconds(others[1]), "Playwright + Chromium": cpu_seconds(*browsers)}
            wall0 = time.perf_counter()
            psutil.cpu_percent()
            rss_peak = 0.0
            go.set()
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("streaming", total=args.seconds)
                while time.perf_counter() - wall0 < args.seconds:
                    rss_peak = max(rss_peak, rss_mb([server]))
                    progress.update(task, completed=time.perf_counter() - wall0)
                    time.sleep(0.5)
            sent = presenter_q.get(timeout=60)
            elapsed = time.perf_counter() - wall0
            cpu1 = {"server": cpu_seconds(server), "simulated participants": cpu_seconds(others[0]),
                    "presenter": cpu_seconds(others[1]), "Playwright + Chromium": cpu_seconds(*browsers)}
            figures["cpu_percent"] = {k: 100 * (cpu1[k] - cpu0[k]) / elapsed for k in cpu0}
            figures["server_cpu_percent"] = figures["cpu_percent"]["server"]
            figures["machine_cpu_percent"] = psutil.cpu_percent()
            time.sleep(1.5)  # the last views in flight
            figures["rss_end_mb"] = rss_mb([server])
            figures["rss_peak_mb"] = max(rss_peak, figures["rss_end_mb"])
            figures["kernels_end"] = len(kernels(server))
            figures["presenter"] = sent
            figures["browser_latencies_ms"] = [page.evaluate("() => window.rrConference.latencies.slice()")
                                               for _, page in followers]
            figures["browser_joins"] = browser_joins
            last = (view["frame"] + sent["sent"]) % frames
            figures["browser_frames_ok"] = [page.get_attribute("[data-rr-viewer]", "data-frame") == str(last)
                                            for _, page in followers]
            end.set()
            stop_event.set()
            crowd_results = participants_q.get(timeout=120)
            for context, _ in followers:
                context.close()
            presenter.join(30)
            crowd.join(30)
            stop(conf.proc)

            figures["crowd"] = summarize_crowd(crowd_results, sent["sent"])
            console.log(f"the plain way: {args.plain} plain Voila pages opened at once")
            partial = DATA / f"partial-{os.getpid()}.json"  # the conference's figures survive a failed plain half
            partial.write_text(json.dumps(figures))
            if args.plain:
                figures["plain"] = plain_way(cases / case_src.name, env, work, args.plain, browser, args.plain_timeout)
            partial.unlink()
            browser.close()
    finally:
        stop(conf.proc)
        for log in work.glob("*.log"):
            shutil.copy(log, DATA / log.name)
        shutil.rmtree(work, ignore_errors=True)
    figures["load_end"] = os.getloadavg()
    figures["memory_total_gb"] = psutil.virtual_memory().total / 1e9
    return figures


def summarize_crowd(results: list[dict], sent: int) -> dict:
    ok = [r for r in results if r["error"] is None]
    latencies = [x for r in ok for x in r["latencies_ms"]]
    return {
        "participants": len(results), "joined": len(ok), "errors": sorted({r["error"] for r in results if r["error"]})[:5],
        "join_s": [r["join_s"] for r in ok], "join_total_s": [r["join_total_s"] for r in ok],
        "post_s": [r["post_s"] for r in ok],
        # does the delay build up (receivers or server falling behind) or stay flat?
        "p50_first_last_100_views_ms": [percentile([x for r in ok for x in r["latencies_ms"][:100]], 50),
                                        percentile([x for r in ok for x in r["latencies_ms"][-100:]], 50)],
        "received": len(latencies), "expected": sent * len(ok), "ended": sum(r["ended"] for r in ok),
        "latency_ms": {q: percentile(latencies, q) for q in (50, 95, 99, 100)},
    }


# ---------------------------------------------------------------- reporting

COLUMNS = ("figure", "readingroom conference", "plain Voila (a kernel each)", "plain / readingroom", "goal", "met?")


def rows(f: dict) -> list[tuple[str, ...]]:
    """The rows shared by the Rich table and the README block (COLUMNS)."""
    crowd, plain = f["crowd"], f.get("plain")
    lat = {int(q): v for q, v in crowd["latency_ms"].items()}  # JSON keys are strings
    browser_lat = [x for run in f["browser_latencies_ms"] for x in run]
    b = {q: percentile(browser_lat, q) for q in (50, 95, 99, 100)}
    n = crowd["joined"] + len(f["browser_joins"])
    mb = (f["rss_joined_mb"] - f["rss_presenter_mb"]) / max(n, 1)
    mb_end = (f["rss_end_mb"] - f["rss_presenter_mb"]) / max(n, 1)
    joins = crowd["join_s"] + [j["welcome_s"] for j in f["browser_joins"]]
    join_max = max(joins, default=float("nan"))
    painted_max = max((j["painted_s"] for j in f["browser_joins"]), default=float("nan"))
    everyone = crowd["participants"] + len(f["browser_joins"])
    reached = [x for x in (plain or {}).get("join_s", []) if x is not None]
    plain_join = (f"{max(reached):.1f} s to the first image ({len(reached)} of {plain['pages']} reached)"
                  if reached else "not reached" if plain else "not run")
    plain_mb = plain["mb_per_participant"] if plain else float("nan")

    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    def ratio(theirs: float, ours: float) -> str:
        return f"{theirs / ours:,.0f}" if ours > 0 and theirs == theirs else ""

    return [
        ("presenter-to-participant latency, simulated, p50 / p95 / p99 / max",
         f"{lat[50]:.0f} / **{lat[95]:.0f}** / {lat[99]:.0f} / {lat[100]:.0f} ms", "no shared view", "", "p95 <= 200 ms",
         yes(lat[95] <= GOALS["p95_ms"])),
        ("presenter-to-participant latency, Chromium, p50 / p95 / p99 / max",
         f"{b[50]:.0f} / **{b[95]:.0f}** / {b[99]:.0f} / {b[100]:.0f} ms", "no shared view", "", "p95 <= 200 ms",
         yes(b[95] <= GOALS["p95_ms"])),
        ("every participant joined within (to `welcome`)", f"**{join_max:.2f} s** ({n} of {everyone} joined)", plain_join,
         ratio(max(reached, default=float("nan")), painted_max), "<= 2 s",
         yes(join_max <= GOALS["join_s"] and n == everyone)),
        ("join time, simulated (POST to `welcome`), median / p95",
         f"{percentile(crowd['join_s'], 50):.2f} / {percentile(crowd['join_s'], 95):.2f} s", "", "", "", ""),
        ("join time, Chromium (Join pressed to `welcome` / to the first image), max",
         f"{max((j['welcome_s'] for j in f['browser_joins']), default=float('nan')):.2f} / {painted_max:.2f} s",
         "", "", "", ""),
        ("server memory per participant (RSS when all joined / at the end, minus before)",
         f"**{mb:.2f}** / {mb_end:.2f} MB", f"{plain_mb:.0f} MB (its kernel + the server's growth)",
         ratio(plain_mb, max(mb, mb_end)), "<= 1 MB", yes(max(mb, mb_end) <= GOALS["mb_per_participant"])),
        ("memory for 200 participants", f"{200 * max(mb, mb_end, 0):.0f} MB",
         f"~{200 * plain_mb / 1e3:.1f} GB (this machine has {f['memory_total_gb']:.1f} GB)", "", "", ""),
        ("kernels started by participants", str(f["kernels_end"] - f["kernels_before"]),
         str(plain["kernels"]) if plain else "", "", "0 for followers", yes(f["kernels_end"] == f["kernels_before"])),
        ("server CPU while streaming (% of one core, process and children)", f"{f['server_cpu_percent']:.0f} %", "", "", "", ""),
        ("server RSS before / all joined / end / peak",
         f"{f['rss_presenter_mb']:.0f} / {f['rss_joined_mb']:.0f} / {f['rss_end_mb']:.0f} / {f['rss_peak_mb']:.0f} MB",
         "", "", "", ""),
        ("views received / views sent x simulated participants", f"{crowd['received']} / {crowd['expected']}",
         "", "", "", ""),
        ("Chromium participants showing the presenter's last frame at the end",
         f"{sum(f['browser_frames_ok'])} of {len(f['browser_frames_ok'])}", "", "", "all", yes(all(f["browser_frames_ok"]))),
    ]


def print_table(f: dict) -> None:
    table = Table(title="Live conference")
    for column in COLUMNS:
        table.add_column(column)
    for row in rows(f):
        table.add_row(*(cell.replace("**", "") for cell in row))
    console.print(table)


def markdown(f: dict, command: str) -> str:
    a, crowd, plain = f["args"], f["crowd"], f.get("plain")
    lines = [
        BEGIN,
        f"One presenter, {crowd['participants']} simulated participants (websocket clients) and "
        f"{len(f['browser_joins'])} Chromium participants on one machine; the presenter steps the frame "
        f"{a['rate']:g} times a second for {a['seconds']:g} s (a {f['frames']}-slice 512x512 CT). Latency = receive "
        "time - the presenter's send time `t`, same clock. The plain way ran in the same run, after the conference: "
        f"{plain['pages'] if plain else 0} plain Voila pages of the same case opened at once (a kernel each).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|---|---:|---:|---:|---|:---:|",
        *["| " + " | ".join(r) + " |" for r in rows(f)],
        "",
        f"- Presenter's 10 Hz clock: median {f['presenter']['schedule_late_ms_p50']:.1f} ms late, max "
        f"{f['presenter']['schedule_late_ms_max']:.1f} ms; {f['presenter']['sent']} views in {f['presenter']['elapsed_s']:.1f} s.",
        f"- The {crowd['participants']} simulated participants joined all at once (GET the join page, POST the join API, "
        f"open the websocket, wait for `welcome`); all in {f['crowd_join_wall_s']:.1f} s of wall time. "
        f"Join errors: {', '.join(crowd['errors']) or 'none'}.",
        f"- Joining, simulated participants: the POST alone took median {percentile(crowd['post_s'], 50):.2f} s, max "
        f"{max(crowd['post_s'], default=float('nan')):.2f} s; the join page GET + POST + websocket + `welcome` median "
        f"{percentile(crowd['join_total_s'], 50):.2f} s.",
        f"- Latency build-up (simulated, median): first 100 views {crowd['p50_first_last_100_views_ms'][0]:.0f} ms, "
        f"last 100 views {crowd['p50_first_last_100_views_ms'][1]:.0f} ms.",
        "- CPU while streaming, % of one core: " + ", ".join(f"{k} {v:.0f} %" for k, v in f["cpu_percent"].items()) + ".",
        *([f"- Plain Voila: times to the first image {', '.join('not reached' if x is None else f'{x:.1f} s' for x in plain['join_s'])} "
           f"(navigation start to the viewer's first painted frame); kernels {plain['kernel_mb']:.0f} MB in all, the Voila "
           f"server grew by {plain['server_delta_mb']:.0f} MB."] if plain else []),
        f"- Machine CPU while streaming: {f['machine_cpu_percent']:.0f} % of {os.cpu_count()} cores (server, presenter, "
        "simulated participants and Chromium all on this machine).",
        f"- Date: {f['date']}; machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; "
        f"load average at start {', '.join(f'{x:.2f}' for x in f['load_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in f.get('load_end', []))}",
        f"- Command: `{command}`",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200, help="simulated participants (default 200)")
    parser.add_argument("--browsers", type=int, default=5, help="real Chromium participants (default 5)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the presenter steps the frame (default 60)")
    parser.add_argument("--rate", type=float, default=10, help="frame steps a second (default 10)")
    parser.add_argument("--plain", type=int, default=5, help="plain Voila pages opened at once (default 5)")
    parser.add_argument("--plain-timeout", type=float, default=900, help="seconds for all plain pages to show an image")
    parser.add_argument("--case", default=SLUG, help=f"a slug from cases/ instead of the synthetic {SLUG!r}")
    parser.add_argument("--update-readme", action="store_true", help=f"write the figures into {SECTION!r} of benchmarks/README.md")
    parser.add_argument("--from-json", type=Path, help="render (and with --update-readme write) a previous run's JSON")
    args = parser.parse_args(argv)
    command = ".venv/bin/python benchmarks/conference_latency.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.from_json:
        figures = json.loads(args.from_json.read_text())
    else:
        figures = run(args)
        figures["command"] = command.strip()
        raw = DATA / f"run-{figures['date'][:16].replace(' ', '-').replace(':', '')}-{os.getpid()}.json"
        raw.write_text(json.dumps(figures))  # one file per run: runs by other people never overwrite it
        console.print(f"raw figures: {raw}")
    print_table(figures)
    block = markdown(figures, figures.get("command", command.strip()))
    print(block)
    if args.update_readme:
        write_figures(block, BEGIN, END, SECTION)
        console.print(f"figures written into benchmarks/README.md ({SECTION!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A conference on several processes behind nginx with Redis, against one process, in one run; then one process killed.

The layout of docs/deploy.md on this machine: nginx (docs/deploy/nginx.conf, TLS) in front of
N processes started as docs/deploy/readingroom@.service starts them, with `--redis` and records in
PostgreSQL; the conference is started on the first. The same crowd also follows one
`readingroom conference start` on its own (no nginx, no Redis: the single-process default) in the
same run. Per layout: one presenter steps the frame 10 times a second for 60 s (the presenter
of benchmarks/conference_latency.py, connected to the conference's own process); P simulated
participants (asyncio websocket clients in C client processes) join as the join page does
(GET it, POST the join API with its cookies, open the websocket) and record receive time - the
presenter's clock `t`. Then, in the several-process layout only, one process other than the
presenter's is killed with SIGKILL while the presenter goes on: its participants reconnect through
nginx as the page does (widgets/conference.js's backoff), and the figure is the time from the kill
until the last of them has its `welcome` and the next view again.

    .venv/bin/python benchmarks/conference_scale.py --update-readme
    .venv/bin/python benchmarks/conference_scale.py --participants 40 --seconds 5          # dry run
    .venv/bin/python benchmarks/conference_scale.py --layouts single --participants 40 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urljoin

import psutil
from rich.console import Console
from rich.table import Table

from conference_latency import Conference, percentile, phantom_case, presenter_process, rss_mb, warm_frame_cache, ws_url
from harness import Nginx, Postgres, Redis, free_port, isolated_env, stop, wait_http, write_figures

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "conference-scale"
SECTION = "## Issue 18: a conference on several processes behind nginx with Redis (conference_scale.py)"
BEGIN, END = "<!-- conference_scale.py figures: begin -->", "<!-- conference_scale.py figures: end -->"
GOALS = {"p95_ms": 250, "following_again_s": 5.0}
KILL_PHASE_S = 10.0  # the presenter goes on this long after the timed part; the kill comes 1 s into it
# The follower page's reconnect delays (ms, each times 0.75-1.25), read from the page's own module.
BACKOFF_MS = [int(x) for x in re.search(r"BACKOFF_MS = \[([^\]]+)\]",
                                        (HERE.parent / "widgets" / "conference.js").read_text()).group(1).split(",")]
console = Console()


# ---------------------------------------------------------------- simulated participants (own processes)

def participants_process(base: str, code: str, first: int, count: int, joined, stop_event, results) -> None:
    asyncio.run(_participants(base, code, first, count, joined, stop_event, results))


async def _participants(base, code, first, count, joined, stop_event, results) -> None:
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=min(count, 200))
    http = AsyncHTTPClient()
    loop = asyncio.get_running_loop()
    join_done = [loop.create_future() for _ in range(count)]
    stopping, sockets = asyncio.Event(), set()
    tasks = [asyncio.create_task(_participant(http, base, code, first + i, join_done[i], stopping, sockets))
             for i in range(count)]
    await asyncio.gather(*join_done)
    joined.set()
    await loop.run_in_executor(None, stop_event.wait)
    stopping.set()
    for ws in list(sockets):  # the run is over, whether or not the conference's end reached everyone
        await ws.close()
    results.put(await asyncio.gather(*tasks))


async def _participant(http, base: str, code: str, i: int, join_done, stopping: asyncio.Event, sockets: set) -> dict:
    """Join like the join page (its cookies kept, as a browser keeps nginx's route cookie), then follow; after a
    dropped link reconnect as the page does, recording when the link went and when views came again."""
    from websockets.asyncio.client import connect

    out = {"join_s": None, "post_s": None, "open_s": None, "join_retries": 0, "latencies": [], "drops": [],
           "error": None}
    try:
        page = await http.fetch(base + f"join/{code}", raise_error=False)
        jar = SimpleCookie()
        for header in page.headers.get_list("Set-Cookie"):
            jar.load(header)
        kept = {k: m.value for k, m in jar.items()}  # nginx's route cookie among them, behind nginx
        xsrf = kept.setdefault("_xsrf", os.urandom(16).hex())
        cookies = "; ".join(f"{k}={v}" for k, v in kept.items())
        t_post = time.perf_counter()
        while True:  # as the join page: a 503 (store or rooms busy) is tried again after its Retry-After
            reply = await http.fetch(base + "readingroom/conference/join", method="POST", raise_error=False,
                                     body=json.dumps({"code": code, "name": f"Participant {i + 1}"}),
                                     headers={"Content-Type": "application/json", "X-XSRFToken": xsrf,
                                              "Cookie": cookies})
            if reply.code != 503:
                break
            out["join_retries"] += 1
            await asyncio.sleep(float(reply.headers.get("Retry-After", "3")))
        if reply.code != 200:
            raise RuntimeError(f"join API answered {reply.code}: {reply.body[:200]!r}")
        out["post_s"] = time.perf_counter() - t_post
        url = ws_url(urljoin(base, json.loads(reply.body)["ws_url"]))
        ws = await connect(url, max_size=2 ** 22, ping_interval=None, additional_headers={"Cookie": cookies})
        sockets.add(ws)
        out["open_s"] = time.perf_counter() - t_post
        while json.loads(await ws.recv()).get("type") != "welcome":
            pass
        out["join_s"] = time.perf_counter() - t_post
    except Exception as exc:  # noqa: BLE001 - counted and reported; one failed participant must not stop the others
        out["error"] = f"{type(exc).__name__}: {exc}"[:300]
        join_done.set_result(False)
        return out
    join_done.set_result(True)
    while True:
        try:
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "view" and "t" in message:
                    now = time.time() * 1000
                    out["latencies"].append((message["t"], now - message["t"]))
                    if out["drops"] and out["drops"][-1]["view_again"] is None:
                        drop = out["drops"][-1]
                        drop["view_again"], drop["caught_up"] = now, message["seq"] == drop["welcome_seq"] + 1
        except Exception:  # noqa: BLE001 - the link dropped (its process was killed): reconnect below
            pass
        sockets.discard(ws)
        if stopping.is_set():
            return out
        drop = {"lost": time.time() * 1000, "welcome": None, "welcome_seq": None, "view_again": None, "caught_up": None,
                "attempts": 0}
        out["drops"].append(drop)
        ws = await _reconnect(url, cookies, drop, stopping)
        if ws is None:
            return out
        sockets.add(ws)


async def _reconnect(url: str, cookies: str, drop: dict, stopping: asyncio.Event):
    """The page's Link.retry: backoff with jitter until a socket gives a `welcome` (which carries the current view)."""
    from websockets.asyncio.client import connect

    while not stopping.is_set():
        wait = BACKOFF_MS[min(drop["attempts"], len(BACKOFF_MS) - 1)] * (0.75 + random.random() / 2)
        drop["attempts"] += 1
        await asyncio.sleep(wait / 1000)
        try:
            ws = await connect(url, max_size=2 ** 22, ping_interval=None, additional_headers={"Cookie": cookies})
            while (welcome := json.loads(await ws.recv())).get("type") != "welcome":
                pass
        except Exception:  # noqa: BLE001 - not yet: try again after the next delay
            continue
        drop["welcome"], drop["welcome_seq"] = time.time() * 1000, welcome.get("seq")
        return ws
    return None


# ---------------------------------------------------------------- the layouts

class Scaled:
    """N processes as readingroom@.service starts them (`--redis`, PostgreSQL), nginx in front; the conference on the first."""

    def __init__(self, cases: Path, slug: str, work: Path, processes: int) -> None:
        sys.path.insert(0, str(HERE.parent))
        from tests.nginx_fixtures import shared_secrets, unit_command

        self.postgres, self.redis = Postgres(work / "pg"), Redis(work)
        records = self.postgres.url
        shared_secrets(work)
        shutil.copytree(cases, work / "cases", dirs_exist_ok=True)
        port = free_port()
        self.ports = [free_port() for _ in range(processes)]
        self.procs, self.logs = [], []
        for k, p in enumerate(self.ports):
            argv, environment = unit_command(work, p, records, self.redis.url, f"https://127.0.0.1:{port}")
            if k == 0:  # the conference's own process: `conference start` with the unit's options
                options = [a for a in argv[argv.index("serve") + 2:] if a.startswith("--")]
                argv = [*argv[:argv.index("serve")], "conference", "start", slug, f"--cases={work / 'cases'}",
                        f"--qr={work / 'join.png'}", *options]
            env = {**isolated_env(work / f"env-{p}"), **environment, "READINGROOM_SECRETS": str(work / "etc" / "secrets")}
            env.pop("JUPYTER_NO_CONFIG")
            env["READINGROOM_CACHE"] = environment["READINGROOM_CACHE"]
            Path(environment["XDG_DATA_HOME"]).mkdir(parents=True, exist_ok=True)
            log = work / f"process-{p}.log"
            self.logs.append(log)
            self.procs.append(psutil.Popen(argv, env=env, cwd=work,
                                           stdout=log.open("w"), stderr=subprocess.STDOUT))
            wait_http(f"http://127.0.0.1:{p}/readingroom/catalog.json", self.procs[-1], log)
        for p in self.ports:
            case_run_done(f"http://127.0.0.1:{p}/", slug)
        self.nginx = Nginx(work, self.ports, port)
        self.nginx.trust()
        output = self.logs[0].read_text()
        found = Conference.PRESENTER.search(output)
        self.session, self.token = int(found.group(2)), found.group(3)
        self.code = re.search(r"Join code: ([A-Z0-9]{6})", output).group(1)
        self.base = self.nginx.url
        self.presenter_ws = f"ws://127.0.0.1:{self.ports[0]}/readingroom/conference/{self.session}/ws?token={self.token}"
        wait_http(self.base + f"join/{self.code}", self.nginx.proc, self.nginx.log)

    @property
    def servers(self) -> list[psutil.Process]:
        return [p for p in self.procs if p.is_running()]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                stop(proc)
        for part in (self.nginx, self.redis, self.postgres):
            part.stop()


def case_run_done(base: str, slug: str) -> None:
    """Wait until the process has run the case once (as every process does at start-up): nothing is timed meanwhile."""
    from readingroom.server.case_pages import RUN_TIMEOUT
    from readingroom.server.catalog import public_id

    urllib.request.urlopen(f"{base}cases/{public_id(slug)}/", timeout=RUN_TIMEOUT).close()


def crowd_join(base: str, code: str, participants: int, clients: int, mp) -> tuple[list, list, float]:
    """Start the client processes; returns (processes, their result queues, wall time until all joined)."""
    procs, queues, events = [], [], []
    stop_event = mp.Event()
    started = time.perf_counter()
    share = [participants // clients + (1 if k < participants % clients else 0) for k in range(clients)]
    for k, count in enumerate(share):
        joined, queue = mp.Event(), mp.Queue()
        proc = mp.Process(target=participants_process, args=(base, code, sum(share[:k]), count, joined, stop_event,
                                                             queue), daemon=True)
        proc.start()
        procs.append(proc)
        queues.append(queue)
        events.append(joined)
    for joined in events:
        if not joined.wait(600):
            raise SystemExit("the simulated participants had not all joined (or failed) within 600 s")
    return procs, queues + [stop_event], time.perf_counter() - started


def measure(name: str, presenter_ws: str, base: str, code: str, servers, args, mp, frames: int, case_id: str,
            kill=None) -> dict:
    """One layout: presenter, crowd, the timed stream; with ``kill`` (called 1 s into the kill phase) the failover."""
    ready, go, end = mp.Event(), mp.Event(), mp.Event()
    presenter_q = mp.Queue()
    view = {"case": case_id, "series": 0, "frame": 0, "window": [40, 80], "zoom": 1.0, "pan": [0.0, 0.0],
            "invert": False, "annotations": [], "hidden_groups": [], "stage": 0}
    seconds = args.seconds + (KILL_PHASE_S if kill else 0)
    presenter = mp.Process(target=presenter_process, args=(presenter_ws, view, frames, args.rate, seconds, ready, go,
                                                           end, presenter_q), daemon=True)
    presenter.start()
    if not ready.wait(120):
        raise SystemExit(f"{name}: the presenter's websocket got no welcome within 120 s")
    time.sleep(1)
    rss_before = rss_mb(servers())
    console.log(f"{name}: {args.participants} simulated participants join at once ({args.clients} client processes)")
    clients, queues, join_wall = crowd_join(base, code, args.participants, args.clients, mp)
    stop_event = queues.pop()
    time.sleep(2)
    rss_joined = rss_mb(servers())
    console.log(f"{name}: the presenter steps the frame {args.rate:g} times a second for {args.seconds:g} s")
    started = time.time() * 1000
    receivers = [psutil.Process(c.pid) for c in clients]
    cpu0 = {p.pid: sum(p.cpu_times()[:2]) for p in [*servers(), *receivers]}
    psutil.cpu_percent()
    go.set()
    time.sleep(args.seconds)
    machine = psutil.cpu_percent()

    def used(procs) -> float:  # % of one core during the timed part
        return sum(sum(p.cpu_times()[:2]) - cpu0.get(p.pid, 0) for p in procs) / args.seconds * 100

    cpu, clients_cpu = used(servers()), used(receivers)
    killed_at = None
    if kill:
        time.sleep(1)
        killed_at = time.time() * 1000
        kill()
        time.sleep(KILL_PHASE_S - 1)
    try:
        sent = presenter_q.get(timeout=120)
    except queue.Empty:
        raise SystemExit(f"{name}: the presenter process ended without its figures (exit code {presenter.exitcode})")
    time.sleep(1.5)  # the last views in flight
    rss_end = rss_mb(servers())
    end.set()
    stop_event.set()
    results = [r for q in queues for r in q.get(timeout=300)]
    for proc in [presenter, *clients]:
        proc.join(30)
    timed_end = started + args.seconds * 1000
    ok = [r for r in results if r["error"] is None]
    latencies = [lat for r in ok for t, lat in r["latencies"] if t <= timed_end]
    figures = {
        "participants": len(results), "joined": len(ok), "errors": sorted({r["error"] for r in results if r["error"]})[:5],
        "join_s": [r["join_s"] for r in ok], "join_wall_s": join_wall,
        "post_s": [r["post_s"] for r in ok], "open_s": [r["open_s"] for r in ok],
        "join_retries": sum(r["join_retries"] for r in ok),
        "latency_ms": {q: percentile(latencies, q) for q in (50, 95, 99, 100)},
        "received": len(latencies), "sent": int(args.seconds * args.rate), "server_cpu_percent": cpu,
        "clients_cpu_percent": clients_cpu, "machine_cpu_percent": machine,
        "rss_mb": [rss_before, rss_joined, rss_end], "processes": len(servers()),
        "presenter_late_ms_max": sent["schedule_late_ms_max"],
    }
    if killed_at is not None:
        dropped = [d for r in ok for d in r["drops"] if d["lost"] >= killed_at]
        again = [(d["view_again"] or float("inf")) - killed_at for d in dropped]
        figures["kill"] = {"dropped": len(dropped), "following_again_ms": again,
                           "welcome_ms": [(d["welcome"] or float("inf")) - killed_at for d in dropped],
                           "caught_up": sum(bool(d["caught_up"]) for d in dropped),
                           "attempts_max": max((d["attempts"] for d in dropped), default=0),
                           "latency_ms_after": percentile([lat for r in ok for t, lat in r["latencies"]
                                                           if t > killed_at + 5000], 95)}
    return figures


def run(args) -> dict:
    DATA.mkdir(parents=True, exist_ok=True)
    case = phantom_case()
    work = Path(tempfile.mkdtemp(prefix="conference-scale-"))
    os.chmod(work, 0o755)  # PostgreSQL (as its own user) and nginx's workers reach their folders under it
    cases = work / "cases"
    shutil.copytree(case, cases / case.name, ignore=shutil.ignore_patterns(".complete"))
    console.log("encoding the case's frames into the shared frame cache, untimed")
    frames = warm_frame_cache(cases / case.name, work / "frames")
    from readingroom.server.catalog import public_id

    mp = multiprocessing.get_context("spawn")
    figures: dict = {"args": vars(args), "frames": frames, "load_start": os.getloadavg(), "cpus": os.cpu_count(),
                     "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"}
    try:
        if "single" in args.layouts:
            console.log("one process: `readingroom conference start`, no nginx, no Redis")
            env = isolated_env(work / "single")
            env["READINGROOM_CACHE"] = str(work / "frames")
            conf = Conference(cases, case.name, env, work / "single")
            case_run_done(conf.base, case.name)
            try:
                figures["single"] = measure("one process", conf.presenter_ws, conf.base, conf.code,
                                            lambda: [conf.process], args, mp, frames, public_id(case.name))
            finally:
                stop(conf.proc)
        if "scale" in args.layouts:
            console.log(f"{args.processes} processes behind nginx with Redis and PostgreSQL")
            layout = Scaled(cases, case.name, work / "scale", args.processes)
            victim = layout.procs[1]

            def kill() -> None:
                console.log(f"kill -9 of process {victim.pid} (port {layout.ports[1]})")
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait(30)

            try:
                figures["scale"] = measure(f"{args.processes} processes", layout.presenter_ws, layout.base, layout.code,
                                           lambda: layout.servers, args, mp, frames, public_id(case.name), kill=kill)
            finally:
                for log in [*layout.logs, layout.nginx.log]:
                    shutil.copy(log, DATA / log.name)
                layout.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures["load_end"] = os.getloadavg()
    return figures


# ---------------------------------------------------------------- reporting

COLUMNS = ("figure", "{n} processes behind nginx, Redis", "one process", "{n} / one", "goal", "met?")


def rows(f: dict) -> list[tuple[str, ...]]:
    scale, single = f.get("scale"), f.get("single")
    for part in (scale, single):  # JSON turned the percentiles' keys into strings
        if part:
            part["latency_ms"] = {int(k): v for k, v in part["latency_ms"].items()}

    def lat(part) -> str:
        if not part:
            return "not run"
        q = part["latency_ms"]
        return f"{q[50]:.0f} / **{q[95]:.0f}** / {q[99]:.0f} / {q[100]:.0f} ms"

    def join(part) -> str:
        return (f"{percentile(part['join_s'], 50):.2f} / {percentile(part['join_s'], 95):.2f} / "
                f"{max(part['join_s'], default=float('nan')):.2f} s ({part['joined']} of {part['participants']})"
                if part else "not run")

    def mb(part) -> float:
        return (max(part["rss_mb"][1], part["rss_mb"][2]) - part["rss_mb"][0]) / max(part["joined"], 1) * 1000 if part else float("nan")

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if not (math.isnan(a) or math.isnan(b)) and b > 0 else ""

    def p95(part) -> float:
        return part["latency_ms"][95] if part else float("nan")

    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    table = [
        ("presenter-to-participant latency, p50 / p95 / p99 / max", lat(scale), lat(single), ratio(p95(scale), p95(single)),
         "p95 <= 250 ms", yes(p95(scale) <= GOALS["p95_ms"]) if scale else ""),
        ("join time (POST to `welcome`), median / p95 / max", join(scale), join(single),
         ratio(percentile(scale["join_s"], 50), percentile(single["join_s"], 50)) if scale and single else "", "", ""),
        ("all joined, wall time", f"{scale['join_wall_s']:.1f} s" if scale else "not run",
         f"{single['join_wall_s']:.1f} s" if single else "not run", "", "", ""),
        ("server memory per participant (RSS growth of all processes / participants)", f"{mb(scale):.0f} KB",
         f"{mb(single):.0f} KB", ratio(mb(scale), mb(single)), "", ""),
        ("server CPU while streaming (all processes, % of one core)",
         f"{scale['server_cpu_percent']:.0f} %" if scale else "not run",
         f"{single['server_cpu_percent']:.0f} %" if single else "not run", "", "", ""),
        ("simulated participants' CPU / whole machine's, while streaming",
         *(f"{part['clients_cpu_percent']:.0f} % of one core / {part['machine_cpu_percent']:.0f} % of all"
           if part and "clients_cpu_percent" in part else "not measured" for part in (scale, single)), "", "", ""),
        ("views received / sent x joined (timed part)",
         f"{scale['received']} / {scale['sent'] * scale['joined']}" if scale else "",
         f"{single['received']} / {single['sent'] * single['joined']}" if single else "", "", "", ""),
    ]
    if scale and "kill" in scale:
        k = scale["kill"]
        last = max(k["following_again_ms"], default=float("nan")) / 1000
        table.append(("one process killed: its participants all following again (kill to next view), max / median",
                      f"**{last:.1f} s** / {percentile(k['following_again_ms'], 50) / 1000:.1f} s "
                      f"({k['dropped']} dropped and back; {k['caught_up']} got the very next view after their "
                      f"`welcome`, the rest skipped views sent while they reconnected; p95 latency from 5 s after the "
                      f"kill {k['latency_ms_after']:.0f} ms)", "no other process", "",
                      "<= 5 s", yes(last <= GOALS["following_again_s"] and k["dropped"] > 0)))
    return table


def print_table(f: dict) -> None:
    n = f["args"]["processes"]
    table = Table(title="Conference on several processes")
    for column in COLUMNS:
        table.add_column(column.format(n=n))
    for row in rows(f):
        table.add_row(*(cell.replace("**", "") for cell in row))
    console.print(table)


def markdown(f: dict, command: str) -> str:
    a, n = f["args"], f["args"]["processes"]
    lines = [
        BEGIN,
        f"{a['participants']} simulated participants ({a['clients']} client processes) follow a presenter stepping the "
        f"frame {a['rate']:g} times a second for {a['seconds']:g} s (a {f['frames']}-slice CT): first one `conference "
        f"start` process on its own (no nginx, no Redis), then through nginx (TLS) to {n} processes with Redis and "
        "PostgreSQL, in the same run on the same machine. Latency = receive time - the presenter's `t`, one clock.",
        "",
        "| " + " | ".join(c.format(n=n) for c in COLUMNS) + " |",
        "|---|---:|---:|---:|---|:---:|",
        *["| " + " | ".join(r) + " |" for r in rows(f)],
        "",
        f"- Date: {f['date']}; machine: {f['cpus']} cores shared with other work, {platform.platform()}, Python "
        f"{platform.python_version()}; load average at start {', '.join(f'{x:.2f}' for x in f['load_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in f.get('load_end', []))}.",
        *([f"- Join errors: {', '.join(f[k]['errors'])}" for k in ("scale", "single") if f.get(k, {}).get("errors")]),
        f"- Command: `{command}`",
        END,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000, help="simulated participants (default 1000)")
    parser.add_argument("--clients", type=int, default=2, help="client processes they are spread over (default 2)")
    parser.add_argument("--processes", type=int, default=4, help="serving processes behind nginx (default 4)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the presenter steps the frame (default 60)")
    parser.add_argument("--rate", type=float, default=10, help="frame steps a second (default 10)")
    parser.add_argument("--layouts", default="scale,single", help="scale, single or both (default)")
    parser.add_argument("--update-readme", action="store_true", help=f"write the figures into {SECTION!r}")
    parser.add_argument("--from-json", type=Path, help="render (and with --update-readme write) a previous run's JSON")
    args = parser.parse_args(argv)
    command = ".venv/bin/python benchmarks/conference_scale.py " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.from_json:
        figures = json.loads(args.from_json.read_text())
    else:
        figures = run(args)
        figures["command"] = command.strip()
        raw = DATA / f"run-{figures['date'][:16].replace(' ', '-').replace(':', '')}-{os.getpid()}.json"
        raw.write_text(json.dumps(figures))
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

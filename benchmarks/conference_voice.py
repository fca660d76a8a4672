"""Voice in a live conference on one machine: kbit/s per listener, Janus and server CPU, view sync with voice on and off.

`readingroom conference start` (which starts its own Janus AudioBridge) serves one
conference. The presenter steps the frame 10 times a second for the whole run; F simulated
followers (websocket clients speaking docs/conference-protocol.md) record each view's
latency (receive time - the presenter's clock, same machine). First phase, voice off:
nobody listens. Second phase, voice on: the presenter speaks (aiortc sending a loop of
speech-like sound, Opus) and N listeners (aiortc peers, each a participant who joined with
the code and offered on its own socket, as a page does) receive the mix. Listeners count
the RTP payload bytes Janus sends them (what a browser's inbound-rtp bytesReceived counts),
after SRTP, without decoding them (the listeners' own cost is not the server's).
Each of the presenter, the followers and the listeners runs in its own process, the listeners'
at a lower priority (nice 10): they stand for devices elsewhere, so their CPU should not be taken
from the server, Janus or the followers' clocks. Pages and websockets use 127.0.0.1; media use
127.0.0.2, a loopback address put on a veth of the run's own (Janus skips loopback interfaces), with
`--voice-interface 127.0.0.2`: nothing goes to this machine's other addresses. Needs root and iproute2.

    .venv/bin/python benchmarks/conference_voice.py --update-readme
    .venv/bin/python benchmarks/conference_voice.py --listeners 3 --followers 5 --seconds 8   # dry run
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
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urljoin

import numpy as np
import psutil
from conference_latency import Conference, cpu_seconds, percentile, ws_url
from harness import isolated_env, stop, write_figures
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
CASE = HERE.parent / "cases" / "chronic-subdural-haematoma-with-mass-effect"
SECTION = "## Voice in a live conference (issue 17)"
BEGIN, END = "<!-- conference_voice.py figures: begin -->", "<!-- conference_voice.py figures: end -->"
GOALS = {"kbps_per_listener": 32.0, "p95_ratio": 1.2}
WIRE_OVERHEAD = 20 + 8 + 12 + 10  # bytes a packet: IPv4, UDP, RTP header, SRTP tag (header extensions not counted)
console = Console()


# ---------------------------------------------------------------- what the presenter says

def speechlike_wav(path: Path, seconds: int = 4, rate: int = 48000) -> Path:
    """Noise and a voiced tone shaped into 4 syllables a second: Opus works on it as on speech."""
    rng = np.random.default_rng(17)
    t = np.arange(seconds * rate) / rate
    noise = np.convolve(rng.standard_normal(t.size), np.ones(12) / 12, mode="same")
    signal = (0.6 * np.sin(2 * np.pi * 140 * t) + 2.0 * noise) * (1 + np.sin(2 * np.pi * 4 * t)) ** 2 / 4
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.int16(signal / np.abs(signal).max() * 0.8 * 32767).tobytes())
    return path


# ---------------------------------------------------------------- joining, as the join page does

async def join(http, base: str, code: str, name: str) -> str:
    """POST the join API with the form's _xsrf token; the participant's websocket URL."""
    page = await http.fetch(base + f"join/{code}", raise_error=False)
    cookie = SimpleCookie()
    for header in page.headers.get_list("Set-Cookie"):
        cookie.load(header)
    xsrf = cookie["_xsrf"].value if "_xsrf" in cookie else os.urandom(16).hex()
    reply = await http.fetch(base + "readingroom/conference/join", method="POST",
                             body=json.dumps({"code": code, "name": name}),
                             headers={"Content-Type": "application/json", "X-XSRFToken": xsrf, "Cookie": f"_xsrf={xsrf}"})
    answer = json.loads(reply.body)
    url = urljoin(base, answer["ws_url"])
    return ws_url(url if "ticket=" in url else f"{url}{'&' if '?' in url else '?'}ticket={answer['ticket']}")


async def next_of(ws, kind: str) -> dict:
    while True:
        message = json.loads(await ws.recv())
        if message.get("type") == kind:
            return message


# ---------------------------------------------------------------- the presenter's views (own process)

def presenter_views(url: str, case_id: str, rate: float, ready, stop_event) -> None:
    asyncio.run(_views(url, case_id, rate, ready, stop_event))


async def _views(url, case_id, rate, ready, stop_event) -> None:
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    async with connect(url, max_size=2 ** 22, ping_interval=None) as ws:
        await next_of(ws, "welcome")
        drainer = asyncio.ensure_future(_drain(ws))
        ready.set()
        start, i = loop.time(), 0
        while not stop_event.is_set():
            i += 1
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            view = {"case": case_id, "series": 0, "frame": 0, "window": [40, 80 + i % 50]}
            await ws.send(json.dumps({"type": "view", "view": view, "t": time.time() * 1000}))
        drainer.cancel()


async def _drain(ws) -> None:
    async for _ in ws:
        pass


# ---------------------------------------------------------------- followers measuring view sync (own process)

def followers_process(base: str, code: str, count: int, ready, stop_event, results) -> None:
    asyncio.run(_followers(base, code, count, ready, stop_event, results))


async def _followers(base, code, count, ready, stop_event, results) -> None:
    from tornado.httpclient import AsyncHTTPClient
    from websockets.asyncio.client import connect

    http = AsyncHTTPClient()
    sockets = [await connect(await join(http, base, code, f"Follower {i + 1}"), max_size=2 ** 22, ping_interval=None)
               for i in range(count)]
    seen: list[tuple[float, float]] = []  # (received at, epoch s; latency ms)

    async def follow(ws) -> None:
        async for raw in ws:  # ends when the socket closes at the end of the run
            now = time.time()
            message = json.loads(raw)
            if message.get("type") == "view" and "t" in message:
                seen.append((now, now * 1000 - message["t"]))

    tasks = [asyncio.ensure_future(follow(ws)) for ws in sockets]
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, stop_event.wait)
    for ws in sockets:
        await ws.close()
    await asyncio.gather(*tasks, return_exceptions=True)  # a socket closed uncleanly ends its follower too
    results.put(seen)


# ---------------------------------------------------------------- the speaking presenter and the listeners (own process)

def listeners_process(base: str, code: str, presenter_ws: str, count: int, wav: str, ready, measure, stop_event,
                      results) -> None:
    os.nice(10)  # they stand for 50 devices elsewhere: their CPU here must not be taken from the server or the clocks
    asyncio.run(_listeners(base, code, presenter_ws, count, wav, ready, measure, stop_event, results))


MEDIA_ADDRESS = "127.0.0.2"


@contextmanager
def loopback_media() -> Iterator[str]:
    """127.0.0.2 on a veth pair of this run's own (up, not IFF_LOOPBACK, so Janus gathers on it; the kernel
    still delivers it through lo); removed at the end, and pairs left by killed runs first."""
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    for pid in re.findall(r": rrbench(\d+)a[@:]", links):
        if not Path(f"/proc/{pid}").exists():
            subprocess.run(["ip", "link", "delete", f"rrbench{pid}a"], check=True)
    name = f"rrbench{os.getpid()}"
    try:
        for args in (["link", "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b"],
                     ["addr", "add", f"{MEDIA_ADDRESS}/32", "dev", f"{name}a"], ["link", "set", f"{name}a", "up"],
                     ["link", "set", f"{name}b", "up"]):
            subprocess.run(["ip", *args], capture_output=True, text=True, check=True)
        yield MEDIA_ADDRESS
    except subprocess.CalledProcessError as failed:
        raise SystemExit(f"ip {' '.join(failed.cmd[1:])}: {failed.stderr.strip()} (run as root, with iproute2)")
    finally:
        subprocess.run(["ip", "link", "delete", f"{name}a"], capture_output=True, check=False)


def _loopback_media_only() -> None:
    """The peers' one candidate is Janus's media address, a loopback one (aioice leaves loopback addresses out
    of its host candidates, and Janus does not answer checks from 127.0.0.1): no traffic to other addresses."""
    import aioice.ice

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [MEDIA_ADDRESS]


def _for_janus(sdp: str) -> str:
    """aiortc lists three DTLS fingerprints; Janus 1.1.2 checks only the last and expects sha-256."""
    return "".join(line for line in sdp.splitlines(keepends=True)
                   if not line.startswith(("a=fingerprint:sha-384", "a=fingerprint:sha-512")))


async def _listeners(base, code, presenter_ws, count, wav, ready, measure, stop_event, results) -> None:
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaPlayer
    from tornado.httpclient import AsyncHTTPClient
    from websockets.asyncio.client import connect

    _loopback_media_only()
    loop = asyncio.get_running_loop()
    http = AsyncHTTPClient()
    received, packets = [0] * count, [0] * count
    peers, sockets, drains = [], [], []

    async def negotiate(ws, pc) -> None:
        await pc.setLocalDescription(await pc.createOffer())
        await ws.send(json.dumps({"type": "voice_offer", "sdp": _for_janus(pc.localDescription.sdp)}))
        answer = await next_of(ws, "voice_answer")
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    # the presenter's voice: its own presenter socket, a microphone that is the loop of speech
    speaker_ws = await connect(presenter_ws, max_size=2 ** 22, ping_interval=None)
    await next_of(speaker_ws, "welcome")
    speaker = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    speaker.addTrack(MediaPlayer(wav, loop=True).audio)
    await negotiate(speaker_ws, speaker)
    await speaker_ws.send(json.dumps({"type": "mic", "value": True}))
    drains.append(asyncio.ensure_future(_drain(speaker_ws)))

    async def listener(i: int) -> None:
        ws = await connect(await join(http, base, code, f"Listener {i + 1}"), max_size=2 ** 22, ping_interval=None)
        await next_of(ws, "welcome")
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        receiver = pc.addTransceiver("audio", direction="recvonly").receiver

        async def counted(packet, arrival_time_ms):  # the payload, as a browser's bytesReceived counts it
            received[i] += len(packet.payload)  # and no more: decoding 50 streams here would starve the machine
            packets[i] += 1

        receiver._handle_rtp_packet = counted
        await negotiate(ws, pc)
        drains.append(asyncio.ensure_future(_drain(ws)))
        peers.append(pc)
        sockets.append(ws)

    for start in range(0, count, 10):  # ten at a time: DTLS handshakes are the costly part
        await asyncio.gather(*(listener(i) for i in range(start, min(count, start + 10))))
    while min(received) == 0:  # every listener hears the mix
        await asyncio.sleep(0.2)
    ready.set()
    await loop.run_in_executor(None, measure.wait)
    before, before_packets, t0 = list(received), list(packets), time.monotonic()
    await loop.run_in_executor(None, stop_event.wait)
    elapsed = time.monotonic() - t0
    results.put({"kbps": [(after - b) * 8 / elapsed / 1000 for after, b in zip(received, before)],
                 "pps": [(after - b) / elapsed for after, b in zip(packets, before_packets)]})
    for task in drains:
        task.cancel()
    for pc in [speaker, *peers]:
        await pc.close()
    for ws in [speaker_ws, *sockets]:
        await ws.close()


# ---------------------------------------------------------------- the run

def janus_of(server: psutil.Process) -> psutil.Process:
    return next(p for p in server.children(recursive=True) if p.name() == "janus")


def phase_cpu(server: psutil.Process, janus: psutil.Process, clients: list[psutil.Process], seconds: float) -> dict:
    """CPU over one phase, in % of one core: the serving process (without its children), Janus, our clients
    (presenter, followers, listeners), and the whole machine (all cores, with whatever else runs on it)."""
    s0, j0, c0, t0 = cpu_seconds(server, children=False), cpu_seconds(janus), cpu_seconds(*clients), time.perf_counter()
    psutil.cpu_percent()
    time.sleep(seconds)
    machine = psutil.cpu_percent() * (os.cpu_count() or 1)
    elapsed = time.perf_counter() - t0
    return {"server": 100 * (cpu_seconds(server, children=False) - s0) / elapsed,
            "janus": 100 * (cpu_seconds(janus) - j0) / elapsed, "clients": 100 * (cpu_seconds(*clients) - c0) / elapsed,
            "machine": machine, "start": time.time() - elapsed, "end": time.time()}


def run(args, media: str) -> dict:
    from readingroom.server.catalog import public_id

    work = Path(tempfile.mkdtemp(prefix="conference-voice-bench-"))
    shutil.copytree(CASE, work / "cases" / CASE.name)
    env = isolated_env(work)
    env["XDG_DATA_HOME"] = str(work / "data")  # the recording and the journal stay in the run's folder
    wav = speechlike_wav(work / "speech.wav")
    mp = multiprocessing.get_context("spawn")
    figures: dict = {"args": vars(args), "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                     "load_start": os.getloadavg()}
    console.log(f"starting `readingroom conference start {CASE.name}` (it starts its own Janus)")
    conf = Conference(work / "cases", CASE.name, env, work, extra=(f"--voice-interface={media}",))
    try:
        server = conf.process
        janus = janus_of(server)
        ready_p, ready_f, ready_l = mp.Event(), mp.Event(), mp.Event()
        measure, stop_views, stop_listeners = mp.Event(), mp.Event(), mp.Event()
        follower_q, listener_q = mp.Queue(), mp.Queue()
        presenter = mp.Process(target=presenter_views, daemon=True,
                               args=(conf.presenter_ws, public_id(CASE.name), args.rate, ready_p, stop_views))
        followers = mp.Process(target=followers_process, daemon=True,
                               args=(conf.base, conf.code, args.followers, ready_f, stop_views, follower_q))
        presenter.start()
        followers.start()
        if not (ready_p.wait(60) and ready_f.wait(120)):
            raise SystemExit("the presenter or the followers did not get in within two minutes")
        console.log(f"voice off: {args.followers} followers, the frame stepped {args.rate:g} times a second, "
                    f"{args.seconds:g} s")
        clients = [psutil.Process(presenter.pid), psutil.Process(followers.pid)]
        figures["off"] = phase_cpu(server, janus, clients, args.seconds)

        console.log(f"{args.listeners} listeners connect (aiortc), the presenter speaks")
        listeners = mp.Process(target=listeners_process, daemon=True,
                               args=(conf.base, conf.code, conf.presenter_ws, args.listeners, str(wav), ready_l,
                                     measure, stop_listeners, listener_q))
        t_connect = time.perf_counter()
        listeners.start()
        if not ready_l.wait(300):
            raise SystemExit("the listeners had not all heard the mix within 300 s")
        figures["listeners_connect_s"] = time.perf_counter() - t_connect
        console.log(f"voice on: {args.seconds:g} s")
        measure.set()
        figures["on"] = phase_cpu(server, janus, [*clients, psutil.Process(listeners.pid)], args.seconds)
        stop_listeners.set()
        figures.update(listener_q.get(timeout=120))
        stop_views.set()
        seen = follower_q.get(timeout=120)
        for phase in ("off", "on"):
            window = figures[phase]
            latencies = [ms for at, ms in seen if window["start"] <= at <= window["end"]]
            window.update(views=len(latencies), p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95))
        recording = next((work / "data" / "readingroom" / "recordings").glob("session-*/voice.wav"), None)
        figures["recording_bytes"] = recording.stat().st_size if recording else 0
        for process in (presenter, followers, listeners):
            process.join(30)
    finally:
        stop(conf.proc)
        shutil.rmtree(work, ignore_errors=True)
    figures["load_end"] = os.getloadavg()
    return figures


def rows(f: dict) -> list[tuple[str, ...]]:
    kbps, off, on = f["kbps"], f["off"], f["on"]
    ratio = on["p95_ms"] / off["p95_ms"] if off["p95_ms"] else float("nan")
    ok = lambda good: "yes" if good else "NO"
    return [
        ("listeners (aiortc, each a joined participant)", f"{len(kbps)}", ""),
        ("audio received per listener, kbit/s (mean, min-max)",
         f"{statistics.mean(kbps):.1f} ({min(kbps):.1f}-{max(kbps):.1f})",
         f"goal ≤ {GOALS['kbps_per_listener']:g}: {ok(max(kbps) <= GOALS['kbps_per_listener'])}"),
        ("the same on the wire, at least (IPv4, UDP, RTP and SRTP headers: 50 B a packet)",
         f"{statistics.mean(k + p * WIRE_OVERHEAD * 8 / 1000 for k, p in zip(kbps, f['pps'])):.1f}",
         f"{statistics.mean(f['pps']):.0f} packets a second (20 ms frames)"),
        ("all listeners connected and hearing the mix after", f"{f['listeners_connect_s']:.1f} s", ""),
        ("Janus CPU, voice off / on (% of one core)", f"{off['janus']:.1f} / {on['janus']:.1f}",
         f"{(on['janus'] / max(len(kbps), 1)):.2f} per listener"),
        ("serving process CPU, voice off / on (% of one core)", f"{off['server']:.1f} / {on['server']:.1f}", ""),
        ("the benchmark's own clients' CPU, voice off / on (% of one core)", f"{off['clients']:.1f} / {on['clients']:.1f}",
         "followers, presenter; listeners when on"),
        (f"whole machine busy, voice off / on (% of one core, {os.cpu_count()} cores)",
         f"{off['machine']:.0f} / {on['machine']:.0f}", "with the other work on it"),
        ("view sync p50, voice off / on (ms)", f"{off['p50_ms']:.1f} / {on['p50_ms']:.1f}", ""),
        ("view sync p95, voice off / on (ms)", f"{off['p95_ms']:.1f} / {on['p95_ms']:.1f}",
         f"on/off {ratio:.2f}; goal ≤ {GOALS['p95_ratio']:.2f}: {ok(ratio <= GOALS['p95_ratio'])}"),
        ("views measured, voice off / on", f"{off['views']} / {on['views']}", ""),
        ("recording (voice.wav) at the end", f"{f['recording_bytes'] / 1e6:.1f} MB", ""),
    ]


def markdown(f: dict, command: str) -> str:
    a = f["args"]
    table = "\n".join(f"| {what} | {value} | {note} |" for what, value, note in rows(f))
    return f"""{BEGIN}
Measured {f['date']} on {platform.machine()} ({os.cpu_count()} cores shared with other work: load
{f['load_start'][0]:.1f} at the start, {f['load_end'][0]:.1f} at the end) with `{command}`:
one `readingroom conference start` with its own Janus, the presenter stepping the view
{a['rate']:g} times a second throughout, {a['followers']} followers measuring view sync; {a['seconds']:g} s
with voice off, then {a['seconds']:g} s with the presenter speaking (a loop of speech-like sound, Opus
from aiortc) to {a['listeners']} aiortc listeners (at nice 10: they stand for devices elsewhere). Pages and sockets on 127.0.0.1, media on 127.0.0.2
(a loopback address on a veth of the run's own: Janus skips loopback interfaces), so nothing goes to the machine's other addresses. kbit/s is RTP payload, as a
browser's `bytesReceived` counts it and as Opus's bitrate is set; the wire figure adds the headers.

| what | figure | against the goal |
|---|---|---|
{table}
{END}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--followers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)
    with loopback_media() as media:
        figures = run(args, media)
    table = Table("what", "figure", "against the goal")
    for row in rows(figures):
        table.add_row(*row)
    console.print(table)
    if args.update_readme:
        command = "benchmarks/conference_voice.py " + " ".join(argv if argv is not None else sys.argv[1:])
        write_figures(markdown(figures, command.strip()), BEGIN, END, SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

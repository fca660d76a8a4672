"""Durable records: answers acknowledged vs stored after kill -9, journal drain time, answer latency.

Three figures, each beside the plain approach measured in the same run:

1. kill -9 at N simulated participants: a real `readingroom conference start` (SQLite store),
   N websocket participants answer a poll (with idempotency keys) over about a second; the
   server is killed with SIGKILL as soon as half of them have their `saved` acknowledgement.
   Restarted the same way, it replays its journal before listening; then every acknowledged
   answer is looked for in the store. The build before durable writes (commit 50066d5, the
   "plain" path: written on a background thread, no acknowledgement) gets the same answers
   and the same kill, once the presenter has seen half of them counted.
2. Drain: 10,000 attendance and answer records journaled while the store is "down" (the
   journal alone), then the time for the durable writer to put them all into the store;
   beside it, the same 10,000 written one transaction each, as the store's plain calls do.
3. Answer latency at N participants, durable vs plain, same run: time from a participant's
   send to the presenter's results counting it (both builds send the presenter a count per
   answer; the k-th answer sent is paired with the count reaching k), and for the durable
   build also the time to the participant's own `saved`.

    .venv/bin/python benchmarks/records_durability.py
    .venv/bin/python benchmarks/records_durability.py --participants 20 --records 500   # dry run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from rich.console import Console
from rich.table import Table
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import Server, isolated_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CASE = "chronic-subdural-haematoma-with-mass-effect"  # the smallest sample case
PLAIN_COMMIT = "50066d5"  # the build before durable writes
console = Console()


# ---- one conference server and its simulated audience ----

class Conference:
    def __init__(self, src: Path, work: Path, records_url: str) -> None:
        self.src, self.work, self.records_url = src, work, records_url
        cases = work / "cases"
        if not cases.exists():
            shutil.copytree(REPO / "cases" / CASE, cases / CASE)
        env = isolated_env(work)
        env["PYTHONPATH"] = str(src)
        env["XDG_DATA_HOME"] = str(work / "data")
        self.server = Server([sys.executable, "-m", "readingroom", "conference", "start", CASE, f"--cases={cases}",
                              f"--records={records_url}"], env, work, work / "server.log", "readingroom/catalog.json")
        output = self.server.log.read_text()
        found = re.search(r"/readingroom/conference/(\d+)/present\?token=(\S+)", output)
        self.session, self.token = int(found.group(1)), found.group(2)
        self.code = re.search(r"Join code: ([A-Z0-9]{6})", output).group(1)
        self.resumed = "Resumed session" in output

    def ws(self, query: str) -> str:
        return f"ws://127.0.0.1:{self.server.port}/readingroom/conference/{self.session}/ws?{query}"

    def join(self, name: str) -> dict:
        body = json.dumps({"code": self.code, "name": name}).encode()
        request = urllib.request.Request(f"{self.server.url}readingroom/conference/join", data=body, headers={
            "Content-Type": "application/json", "X-XSRFToken": "t0k3n", "Cookie": "_xsrf=t0k3n"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())


async def next_of(socket, kinds: tuple[str, ...]) -> dict:
    while True:
        message = json.loads(await socket.recv())
        if message["type"] in kinds:
            return message


async def answer_round(conference: Conference, participants: int, durable: bool, spread: float,
                       kill_after: int | None = None) -> dict:
    """Everyone answers one poll within ``spread`` seconds; latencies, acknowledged keys, the presenter's counts."""
    joined = [conference.join(f"Attendee {n}") for n in range(participants)]
    presenter = await connect(conference.ws(f"token={conference.token}"), max_size=None)
    await next_of(presenter, ("welcome",))
    sockets = []
    for one in joined:
        socket = await connect(conference.ws(f"ticket={one['ticket']}"), max_size=None)
        await next_of(socket, ("welcome",))
        sockets.append(socket)
    poll = f"p{uuid.uuid4().hex[:8]}"
    await presenter.send(json.dumps({"type": "poll_open", "poll": {"id": poll, "kind": "choice", "prompt": "Next?",
                                                                   "options": ["CT", "MRI", "Nothing"]}}))
    for socket in sockets:
        await next_of(socket, ("poll",))
    await next_of(presenter, ("results",))
    sent: list[float] = []
    counted: dict[int, float] = {}
    acked: dict[str, float] = {}
    killed = asyncio.Event()

    def kill_now() -> None:
        if kill_after is not None and not killed.is_set():
            conference.server.proc.send_signal(signal.SIGKILL)
            killed.set()

    async def watch_presenter() -> None:
        try:
            while len(counted) < participants:
                results = await next_of(presenter, ("results",))
                total = sum(results["counts"])
                counted.setdefault(total, time.perf_counter())
                if not durable and kill_after is not None and total >= kill_after:
                    kill_now()
        except Exception:  # noqa: BLE001  the server was killed
            return

    async def one(socket, n: int) -> None:
        await asyncio.sleep(random.uniform(0, spread))
        key = uuid.uuid4().hex
        message = {"type": "answer", "poll": poll, "answer": n % 3}
        if durable:
            message["key"] = key
        sent.append(time.perf_counter())
        started = sent[-1]
        try:
            await socket.send(json.dumps(message))
            if durable:
                reply = await next_of(socket, ("saved", "unsaved"))
                if reply["type"] == "saved":
                    acked[f"answer:{conference.session}:{joined[n]['participant']}:{key}"] = time.perf_counter() - started
                    if kill_after is not None and len(acked) >= kill_after:
                        kill_now()
        except Exception:  # noqa: BLE001  the server was killed
            return

    watcher = asyncio.create_task(watch_presenter())
    await asyncio.gather(*(one(socket, n) for n, socket in enumerate(sockets)))
    try:
        await asyncio.wait_for(watcher, 30)
    except TimeoutError:
        watcher.cancel()
    for socket in [presenter, *sockets]:
        await socket.close()
    sent.sort()
    to_count = [counted[k + 1] - sent[k] for k in range(len(sent)) if k + 1 in counted]
    return {"to_count": to_count, "acked": acked, "counted": max(counted, default=0), "poll": poll,
            "participants": [one["participant"] for one in joined]}


def stored_answers(records_url: str, session: int, poll: str) -> tuple[set[str], int]:
    """(idempotency keys stored, answers stored) for the poll."""
    from sqlalchemy import create_engine, text

    engine = create_engine(records_url)
    with engine.connect() as db:
        columns = {row[1] for row in db.execute(text("PRAGMA table_info(poll_answer)"))}
        keyed = "idempotency_key" in columns
        rows = db.execute(text(f"SELECT {'idempotency_key' if keyed else 'NULL'} FROM poll_answer "
                               "WHERE session_id = :s AND poll_id = :p"), {"s": session, "p": poll}).all()
    engine.dispose()
    return {row[0] for row in rows if row[0]}, len(rows)


def plain_build(into: Path) -> Path:
    """The source of the build before durable writes, from git (commit 50066d5)."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", PLAIN_COMMIT, "src", "widgets"], capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


# ---- figures ----

def kill_figure(src: Path, work: Path, participants: int, durable: bool) -> dict:
    work.mkdir(parents=True)
    url = f"sqlite:///{work / 'records.sqlite'}"
    conference = Conference(src, work, url)
    round_ = asyncio.run(answer_round(conference, participants, durable, spread=1.0, kill_after=participants // 2))
    conference.server.proc.wait()
    again = Conference(src, work, url)  # the durable build replays its journal before it listens
    again.server.stop()
    keys, stored = stored_answers(url, conference.session, round_["poll"])
    acknowledged = set(round_["acked"]) if durable else set()
    return {"acknowledged": len(acknowledged) if durable else round_["counted"], "stored": stored,
            "acknowledged_stored": len(acknowledged & keys), "resumed": again.resumed}


def latency_figure(src: Path, work: Path, participants: int, durable: bool, rounds: int) -> dict:
    work.mkdir(parents=True)
    conference = Conference(src, work, f"sqlite:///{work / 'records.sqlite'}")
    to_count, to_ack = [], []
    try:
        for _ in range(rounds):
            result = asyncio.run(answer_round(conference, participants, durable, spread=2.0))
            to_count += result["to_count"]
            to_ack += list(result["acked"].values())
    finally:
        conference.server.stop()
    return {"to_count": to_count, "to_ack": to_ack}


def drain_figure(work: Path, records: int) -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from readingroom.records import RecordsStore, sqlite_url
    from readingroom.records.durable import DurableRecords
    from readingroom.records.journal import Entry, Journal

    work.mkdir(parents=True)
    t0 = datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
    figures = {}
    for way in ("journal", "plain"):
        store = RecordsStore(sqlite_url(work / f"{way}.sqlite"))
        session = store.create_session("case", CASE, t0)
        people = [store.add_participant(f"Attendee {n}").id for n in range(200)]
        entries = [Entry(f"k{n}", "answer" if n % 2 else "join", session.id, people[n % 200], t0 + timedelta(seconds=n),
                         "p1" if n % 2 else None, n % 3 if n % 2 else None) for n in range(records)]
        if way == "journal":
            journal = Journal(work / "records.journal", store.url)
            for start in range(0, records, 500):  # journaled during the outage, as answers arrived
                journal.append(entries[start:start + 500])
            started = time.perf_counter()
            durable = DurableRecords(store, journal)
            assert durable.drain(timeout=600), "the journal did not drain"
            figures[way] = time.perf_counter() - started
            durable.close()
        else:
            started = time.perf_counter()
            for entry in entries:  # one transaction each, as the records thread wrote them before
                if entry.kind == "join":
                    store.record_join(entry.session_id, entry.participant_id, entry.at)
                else:
                    store.record_poll_answer(entry.session_id, entry.participant_id, entry.poll_id, entry.answer,
                                             entry.at)
            figures[way] = time.perf_counter() - started
        store.close()
    return figures


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--records", type=int, default=10_000, help="records in the journal to drain")
    parser.add_argument("--rounds", type=int, default=3, help="polls answered for the latency figure")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="rr-durability-") as folder:
        work = Path(folder)
        plain_src, ours = plain_build(work / "plain-build"), REPO / "src"
        console.print("kill -9 after acknowledged answers …")
        kill_ours = kill_figure(ours, work / "kill-ours", args.participants, durable=True)
        kill_plain = kill_figure(plain_src, work / "kill-plain", args.participants, durable=False)
        console.print("answer latency …")
        lat_ours = latency_figure(ours, work / "lat-ours", args.participants, True, args.rounds)
        lat_plain = latency_figure(plain_src, work / "lat-plain", args.participants, False, args.rounds)
        console.print("journal drain …")
        drain = drain_figure(work / "drain", args.records)
    n = args.participants
    table = Table(title=f"Durable records, {n} participants")
    for heading in ("figure", "durable (this build)", f"plain ({PLAIN_COMMIT})", "goal"):
        table.add_column(heading)
    table.add_row("kill -9: answers acknowledged / of them stored",
                  f"{kill_ours['acknowledged']} / {kill_ours['acknowledged_stored']}",
                  f"{kill_plain['acknowledged']} counted for the presenter / {kill_plain['stored']} stored", "all")
    table.add_row(f"kill -9: answers stored in all (of {n} sent)", str(kill_ours["stored"]),
                  str(kill_plain["stored"]), "")
    table.add_row("restart reopened the same session", "yes" if kill_ours["resumed"] else "no",
                  "yes" if kill_plain["resumed"] else "no (new code)", "yes")
    table.add_row(f"answer to presenter's count, p50 / p95 / max ({len(lat_ours['to_count'])} / "
                  f"{len(lat_plain['to_count'])} answers)",
                  f"{p(lat_ours['to_count'], .5):.0f} / {p(lat_ours['to_count'], .95):.0f} / "
                  f"{p(lat_ours['to_count'], 1):.0f} ms",
                  f"{p(lat_plain['to_count'], .5):.0f} / {p(lat_plain['to_count'], .95):.0f} / "
                  f"{p(lat_plain['to_count'], 1):.0f} ms", "p95 <= 200 ms")
    table.add_row("answer to its `saved`, p50 / p95 / max",
                  f"{p(lat_ours['to_ack'], .5):.0f} / {p(lat_ours['to_ack'], .95):.0f} / "
                  f"{p(lat_ours['to_ack'], 1):.0f} ms", "no acknowledgement", "p95 <= 200 ms")
    table.add_row(f"{args.records:,} records into the store after an outage",
                  f"{drain['journal']:.2f} s (journal drain)",
                  f"{drain['plain']:.2f} s (one transaction each)", "")
    console.print(table)
    console.print(f"ratios: p95 to count durable/plain {p(lat_ours['to_count'], .95) / p(lat_plain['to_count'], .95):.2f}; "
                  f"drain plain/journal {drain['plain'] / drain['journal']:.1f}")
    console.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores, {platform.platform()}, "
                  f"Python {platform.python_version()}; load average at start "
                  f"{', '.join(f'{x:.2f}' for x in load_before)}, at end {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""How long the event loop stalls while the PHI gate re-checks a case holding a malformed file.

The serving app's gate used to check on the event loop; it now runs the check in a worker
process (readingroom.server.dicom_jobs) and awaits it. Both are measured here in one run,
on the same case: a copy of the head CT sample case plus one malformed file (about 520,000
tiny private elements, 5 MB of header), read up to the default header limit (4 MiB) and then
refused; ``--header-limit 64M`` checks it in full, as a genuine large header would be. While
the check runs, a ticker on the loop asks for a 5 ms sleep over and over; the longest it
waited beyond that is the stall every websocket and request of the server would have seen. Also: the time to the verdict on
the plain case (no malformed file), inline against a warm pool, which is what the pool costs
a normal check.

Usage: python benchmarks/gate_stall.py [--repeat 3] [--header-limit 4M]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from readingroom.dicom.synthetic import write_header_bomb
from readingroom.server.dicom_jobs import DicomJobs
from readingroom.server.gate import CaseGate

CASES = Path(__file__).resolve().parents[1] / "cases"
CASE = "chronic-subdural-haematoma-with-mass-effect"


async def stall_while(check) -> tuple[float, float]:
    """(longest loop stall, time to the verdict) in seconds while ``check()`` (a coroutine) runs."""
    stalls, done = [], asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - before - 0.005)

    ticking = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    await check()
    took = time.perf_counter() - started
    done.set()
    await ticking
    return max(stalls), took


async def measure(folder: Path, jobs: DicomJobs, inline: bool) -> tuple[float, float]:
    gate = CaseGate(folder.parent, jobs)  # a new gate: no verdict cached, as after an edit
    if inline:  # as before: the check on the event loop itself
        async def check():
            gate.problems(folder.name)
    else:
        async def check():
            await gate.checked(folder.name)
    return await stall_while(check)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--header-limit", default="4M", help="READINGROOM_MAX_HEADER_SIZE for the run")
    args = parser.parse_args()
    os.environ["READINGROOM_MAX_HEADER_SIZE"] = args.header_limit  # the pool's workers inherit it
    work = Path(tempfile.mkdtemp(prefix="gate-stall-"))
    plain = work / "plain" / CASE
    bad = work / "bad" / CASE
    shutil.copytree(CASES / CASE, plain)
    shutil.copytree(CASES / CASE, bad)
    write_header_bomb(next((bad / "images").rglob("*.dcm")), bad / "images" / "dropped-in.dcm")
    inline_jobs, pool = DicomJobs(0), DicomJobs(2)
    try:
        pool.wait(len, "warm")  # the workers are spawned once, at the server's start-up
        results = {}
        for name, folder in (("malformed file", bad), ("plain case", plain)):
            for how, jobs, inline in (("inline", inline_jobs, True), ("pool", pool, False)):
                runs = [asyncio.run(measure(folder, jobs, inline)) for _ in range(args.repeat)]
                results[(name, how)] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    finally:
        pool.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"median of {args.repeat}, header limit {args.header_limit}; stall = longest wait of a 5 ms loop tick "
          "beyond 5 ms")
    print(f"{'case':<16}{'check':<8}{'loop stall':>12}{'verdict in':>12}")
    for (name, how), (stall, took) in results.items():
        print(f"{name:<16}{how:<8}{stall * 1000:>10.1f} ms{took:>10.2f} s")
    for name in ("malformed file", "plain case"):
        inline, pooled = results[(name, "inline")], results[(name, "pool")]
        print(f"{name}: stall inline / pool = {inline[0] / max(pooled[0], 1e-6):.0f}x; "
              f"verdict pool / inline = {pooled[1] / inline[1]:.2f}x")


if __name__ == "__main__":
    main()

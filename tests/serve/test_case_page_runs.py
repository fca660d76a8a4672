"""The order in which `readingroom serve` runs its cases: a reader never queues behind the whole catalog."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from pathlib import Path

from readingroom.server.case_pages import CasePages
from readingroom.server.catalog import Card
from readingroom.server.base import template_environment

CASES = Path(__file__).resolve().parents[2] / "cases"
HEAD_CT = "chronic-subdural-haematoma-with-mass-effect"


class GatedRunner:
    """Stands in for the kernel run only: each run waits until the test lets it end; the order is kept."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    async def run(self, view: dict, folder: Path, timeout: int) -> dict:
        self.started.append(folder.name)
        await self.gates.setdefault(folder.name, asyncio.Event()).wait()
        return {"notebook": view, "stages": [{"state": {}, "keys": {}, "widgets": {}}], "failed": None}

    def finish(self, slug: str) -> None:
        self.gates.setdefault(slug, asyncio.Event()).set()


async def _until(condition) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


def test_a_reader_waits_behind_the_run_in_progress_not_the_whole_catalog():
    notebook = json.loads((CASES / HEAD_CT / "case.ipynb").read_text())
    cards = [Card(f"case-{k}", "v1", notebook) for k in range(5)]

    async def scenario() -> None:
        runner = GatedRunner()
        pages = CasePages(CASES, b"secret", template_environment(), logging.getLogger("test"), runner=runner)
        pages.prepare(cards)  # start-up: the whole catalog, in the background
        await _until(lambda: runner.started == ["case-0"])
        asked = asyncio.ensure_future(pages.page(cards[4]))  # a reader opens the last case meanwhile
        await asyncio.sleep(0.05)
        runner.finish("case-0")
        await _until(lambda: len(runner.started) == 2)
        assert runner.started == ["case-0", "case-4"]
        runner.finish("case-4")
        page = await asked
        assert "<h1>Unknown case</h1>" in page.html and not page.error
        for card in cards[1:4]:
            runner.finish(card.slug)
        await _until(lambda: len(runner.started) == 5)
        assert runner.started[2:] == ["case-1", "case-2", "case-3"]  # the rest of the catalog, once each

    # Its own thread and loop: Playwright's session fixtures may already run a loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario()).result()

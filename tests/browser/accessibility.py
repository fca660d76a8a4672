"""axe-core (axe-playwright-python) against WCAG 2.2 AA, one clear line per violation."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_AXE = Axe()


def violations(page, state: str = "") -> list[str]:
    """``rule: target`` for each node that breaks a WCAG 2.2 A/AA rule on the page as it is now."""
    results = _AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG22_AA}, "resultTypes": ["violations"]})
    where = f" ({state})" if state else ""
    return [f"{v['id']}{where}: {node['target']} {v['help']}"
            for v in results.response["violations"] for node in v["nodes"]]

"""A case page is the same bytes whether `serve` sends it or `build` writes it, apart from where its
later stages and its answers' scores come from, where its records go (a site built without --server
keeps none), whether frames come in bundles (not from a static host), and the widget ids, which each
run of a case draws afresh."""

from __future__ import annotations

import json
import re
import shutil
import sys
import urllib.request

from readingroom.server.catalog import public_id
from tests.build.conftest import REPO
from tests.servers import Server, free_port, jupyter_env

HEAD_CT = "chronic-subdural-haematoma-with-mass-effect"
CONFIG = re.compile(r'(<script id="rr-case-page" type="application/json">)(.*?)(</script>)', re.DOTALL)
REVEAL = re.compile(r' data-key="[^"]*" data-stages="[^"]*"')
NO_BUNDLES = ', "frameBundles": false'  # a static host has each frame as its own file, never a bundle
RECORDS = re.compile(r'<p class="rr-outbox"[^>]*></p>|<script data-rr-records="([^"]*)">.*?</script>', re.DOTALL)
WIDGET_ID = re.compile(r"\b[0-9a-f]{32}\b")  # widget ids; frame digests, the same in both, are numbered alike


def comparable(page: str) -> tuple[str, dict]:
    """The page with its stage source, scoring and records taken out, and widget ids numbered in order of appearance."""
    records = [m.group(1) for m in RECORDS.finditer(page) if m.group(1)]
    page, numbered = RECORDS.sub("", REVEAL.sub("", page)).replace(NO_BUNDLES, ""), {}
    page = WIDGET_ID.sub(lambda m: numbered.setdefault(m.group(0), f"widget-{len(numbered)}"), page)
    config = json.loads(CONFIG.search(page).group(2))
    where = {k: config.pop(k) for k in ("answers", "offline_keys", "keys") if k in config}
    if records:
        where["records"] = records[0]
    page = CONFIG.sub(lambda m: m.group(1) + json.dumps(config, sort_keys=True) + m.group(3), page)
    return page, where


def test_served_and_built_case_pages_differ_only_in_stages_and_scoring(site, tmp_path):
    built = (site / "cases" / public_id(HEAD_CT) / "index.html").read_text()
    cases = tmp_path / "cases"
    shutil.copytree(REPO / "cases" / HEAD_CT, cases / HEAD_CT)
    port = free_port()
    server = Server([sys.executable, "-m", "readingroom", "serve", str(cases), f"--port={port}"],
                    jupyter_env(tmp_path, tmp_path / "frame-cache", "serve"), tmp_path, tmp_path / "serve.log", port,
                    "readingroom/catalog.json")
    try:
        with urllib.request.urlopen(f"{server.url}cases/{public_id(HEAD_CT)}/", timeout=300) as reply:
            served = reply.read().decode()
    finally:
        server.stop()
    served_page, served_from = comparable(served)
    built_page, built_from = comparable(built)
    assert served_page == built_page
    assert served_from == {"answers": f"../../readingroom/cases/{public_id(HEAD_CT)}/answers",
                           "offline_keys": f"../../readingroom/cases/{public_id(HEAD_CT)}/offline-keys.json",
                           "records": "../../readingroom/records"}
    assert list(built_from) == ["keys"] and all("hash" in key for key in built_from["keys"].values())

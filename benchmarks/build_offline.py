"""Static build and offline modules: build times, site size against the DICOM, saving a module at
1.5 Mbit/s / 300 ms, first image offline; beside them nbconvert's own HTML export of the same case.

Everything runs on copies of cases/ and curriculum/ in a temporary folder with its own frame cache:
`readingroom build` cold, again with nothing changed, and after one case's text changed; the site
served by `python -m http.server`, Debian's Chromium throttled through CDP. The plain alternative in
the same run: `jupyter nbconvert --to html --execute` of the head CT case (its size, its requests to
other hosts, whether its viewer shows anything offline) and our `--to readingroom` of the same case.
Run: .venv/bin/python benchmarks/build_offline.py
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright

from harness import CHROMIUM, CHROMIUM_ARGS, free_port, isolated_env, stop, wait_http
from readingroom.server.catalog import public_id

ROOT = Path(__file__).resolve().parents[1]
MODULE = "normal-first"
CASE = "chronic-subdural-haematoma-with-mass-effect"
LINK = {"offline": False, "latency": 300, "downloadThroughput": 1_500_000 / 8, "uploadThroughput": 750_000 / 8}
PAINTED = "[data-rr-viewer][data-tier]"


def timed_build(work: Path, env: dict) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "readingroom", "build", "--cases", str(work / "cases"), "-o",
                           str(work / "www" / "site")], check=True, env=env, cwd=work, capture_output=True, text=True)
    return time.monotonic() - started, done.stdout.strip().splitlines()[-1]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def sizes(work: Path) -> dict:
    """Per case: the site's files for it (page, stages, frames, thumbnail) against its DICOM files."""
    state = json.loads((work / "www" / "site.state.json").read_text())
    site = work / "www" / "site"
    found = {}
    for slug, kept in state.items():
        built = sum((site / f).stat().st_size for f in kept["files"])
        raw = folder_bytes(work / "cases" / slug / "images")
        found[slug] = {"site_bytes": built, "dicom_bytes": raw, "ratio": round(built / raw, 3)}
    found["whole site"] = {"site_bytes": folder_bytes(site),
                           "dicom_bytes": sum(v["dicom_bytes"] for v in found.values())}
    return found


def throttled(context, page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", LINK)


def offline_figures(browser, site_url: str, slugs: list[str]) -> dict:
    """Save the module at 1.5 Mbit/s / 300 ms, then open each of its cases with no network."""
    context = browser.new_context()
    page = context.new_page()
    throttled(context, page)
    page.goto(f"{site_url}modules/{MODULE}/")
    started = time.monotonic()
    page.get_by_role("button", name="Save for offline").click()
    page.wait_for_selector("html[data-rr-offline=ready]", timeout=900_000)
    saved_s = time.monotonic() - started
    status = page.locator("#rr-offline-status").text_content()
    context.set_offline(True)
    first_image = {}
    for slug in slugs:
        started = time.monotonic()
        page.goto(f"{site_url}cases/{public_id(slug)}/", wait_until="commit")
        page.wait_for_selector(PAINTED, timeout=60_000)
        first_image[slug] = round(time.monotonic() - started, 3)
    context.close()
    return {"save_module_s": round(saved_s, 1), "saved": status, "first_image_offline_s": first_image}


def exports(browser, work: Path, env: dict) -> dict:
    """nbconvert's default HTML beside ours, for the same case: size, other hosts named, a viewer offline."""
    case = shutil.copytree(ROOT / "cases" / CASE, work / "export" / CASE)
    found = {}
    for name, args in (("nbconvert --to html --execute", ["--to", "html", "--execute", "--output", "plain"]),
                       ("nbconvert --to readingroom", ["--to", "readingroom.build.exporter.ReadingroomExporter", "--output", "ours"])):
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", *args, "case.ipynb"], check=True, env=env,
                       cwd=case, capture_output=True)
        seconds = time.monotonic() - started
        html = case / f"{args[-1]}.html"
        context = browser.new_context(offline=True)
        page = context.new_page()
        asked = []  # what the page asks of other hosts (offline, so nothing leaves the machine)
        page.on("request", lambda r: asked.append(r.url))
        page.goto(html.as_uri())
        try:
            page.wait_for_selector(PAINTED, timeout=20_000)
            viewer = "paints (scroll, window, questions, reveal)"
        except Exception:  # noqa: BLE001 - the plain export's viewer never appears offline
            pictures = page.locator("img").count()
            viewer = f"no viewer ({pictures} still image(s)): its widget manager and scripts are on other hosts"
        page.wait_for_load_state("load")
        hosts = sorted({re.sub(r"^https?://([^/]+).*", r"\1", u) for u in asked if u.startswith("http")})
        context.close()
        found[name] = {"bytes": html.stat().st_size, "seconds": round(seconds, 1), "other_hosts": hosts,
                       "offline": viewer}
    return found


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="rr-build-bench-"))
    shutil.copytree(ROOT / "cases", work / "cases")
    shutil.copytree(ROOT / "curriculum", work / "curriculum")
    env = isolated_env(work)
    results = {"cold_build": timed_build(work, env)}
    results["rebuild_unchanged"] = timed_build(work, env)
    notebook_path = work / "cases" / CASE / "case.ipynb"
    notebook = json.loads(notebook_path.read_text())
    notebook["cells"][0]["source"] = "## Presentation\n\nA fall at home two weeks ago; now drowsy."
    notebook_path.write_text(json.dumps(notebook))
    results["rebuild_one_case_changed"] = timed_build(work, env)
    results["sizes"] = sizes(work)
    slugs = yaml.safe_load((work / "curriculum" / f"{MODULE}.yaml").read_text())["cases"]
    port = free_port()
    log = work / "http.log"
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory",
                               str(work / "www")], stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/site/", server, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            results["offline"] = offline_figures(browser, f"http://127.0.0.1:{port}/site/", slugs)
            results["exports"] = exports(browser, work, env)
            browser.close()
    finally:
        stop(server)
    print(json.dumps(results, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

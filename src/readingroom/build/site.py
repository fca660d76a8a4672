"""``readingroom build``: the catalog, case pages and module pages as static files any web server can host.

The site mirrors the served one's paths (``cases/<id>/``, ``readingroom/frames/...``,
``readingroom/static/<version>/...``) and every link in it is relative, so it works from any
folder of any static host (``python -m http.server``, nginx, object storage). Nothing in it
points at another host, and no file under ``cases/`` is copied: frames are the encoded
tiers, the same content-addressed blobs the server sends.

Built with a ``server`` (``--server``), its pages send learners' answers and time on task to
that readingroom server's records (``outbox.js``; the server allows the site's origin with
``--site-origin``); without one the site is self-study only and its module pages say so.

A rebuild redoes only what changed: each case's version is the digest of its files' bytes
and of the renderer (templates, front-end modules, page code); a case whose version and
files are unchanged is not run again. What was built is kept beside the site
(``<site>.state.json``), not in it, since it names every stage file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from readingroom.build.cases import run_case, write_case
from readingroom.build.offline import OFFLINE_TEMPLATES, WORKER, listing
from readingroom.build.output import SiteWriter
from readingroom.curriculum import Module, credits_text, find_modules
from readingroom.errors import InputError
from readingroom.frames.cache import FrameCache, default_cache_dir
from readingroom.server.base import TEMPLATES
from readingroom.server.catalog import Card
from readingroom.server.gate import CaseGate
from readingroom.widgets.assets import modules_version, served_sources

KNOWN_INDEX = "readingroom/catalog-known.json"


def site_environment() -> jinja2.Environment:
    """Our templates first (the module pages), then the served pages' own (the same look)."""
    loader = jinja2.FileSystemLoader([OFFLINE_TEMPLATES, TEMPLATES / "learning", TEMPLATES])
    return jinja2.Environment(loader=loader, autoescape=True)


@dataclass(frozen=True)
class SitePlan:
    """What a build covers: the cases (with their content versions) and the modules."""

    cases: list[Card]
    modules: list[Module]
    withheld: dict[str, list[str]] = field(default_factory=dict)  # slug: why it fails the PHI checks
    everything: bool = True  # every case and module: what is not in the plan is no longer in the site
    server: str = ""  # the readingroom server its pages send answers and time to ("": self-study only)


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)  # slugs run and written this time
    unchanged: list[str] = field(default_factory=list)
    frames_bytes: dict[str, int] = field(default_factory=dict)  # slug: bytes of its frames in the site
    removed: int = 0  # files of earlier builds no case uses any more (old stages, frames, removed cases)


def plan(cases_dir: Path, curriculum_dir: Path, names: Iterable[str] = (), *, server: str = "") -> SitePlan:
    """The cases and modules to build: ``names`` (case slugs or module names, a module bringing its
    cases), or every case and module. A named case failing the PHI checks is an error; unnamed, it is left out.
    ``server``: the readingroom server the pages send their records to."""
    server = records_server(server) if server else ""
    gate = CaseGate(cases_dir)
    modules = {m.name: m for m in find_modules(curriculum_dir, cases_root=cases_dir)}
    names = list(names)
    unknown = [n for n in names if n not in modules and n not in gate.slugs()]
    if unknown:
        raise InputError(f"{unknown[0]} is neither a case in {cases_dir} nor a module in {curriculum_dir}: "
                         "give a case folder's name or a module's file name without .yaml")
    chosen_modules = [modules[n] for n in names if n in modules] if names else list(modules.values())
    slugs = [n for n in names if n not in modules] if names else gate.slugs()
    slugs += [slug for module in chosen_modules for slug in module.cases if slug not in slugs]
    cards, withheld = [], {}
    for slug in slugs:
        problems = gate.problems(slug)
        if problems and (slug in names or any(slug in m.cases for m in chosen_modules)):
            raise InputError(f"{slug} fails the de-identification checks ({problems[0]}): run "
                             f"`readingroom check {cases_dir / slug}`; a static site holds only cases that pass")
        if problems:
            withheld[slug] = problems
            continue
        cards.append(_card(cases_dir, slug, server))
    return SitePlan(cards, chosen_modules, withheld, everything=not names, server=server)


def records_server(given: str) -> str:
    """``--server`` checked: the http(s) address of a readingroom server, ending in "/"."""
    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"--server {given}: give the address of your readingroom server, e.g. https://rr.example.org")
    return given.rstrip("/") + "/"


def build(site_plan: SitePlan, cases_dir: Path, output: Path, *, frames: FrameCache | None = None,
          on_case: Callable[[str], None] = lambda slug: None) -> BuildReport:
    """Write the site for ``site_plan`` into ``output``; ``on_case`` is told each case as it is done."""
    site, frames = SiteWriter(output), frames or FrameCache(default_cache_dir())
    environment = site_environment()
    state_path = output.with_name(output.name + ".state.json")
    state = _read_state(state_path)
    report = BuildReport()
    for card in site_plan.cases:
        kept = state.get(card.slug)
        if kept and kept["version"] == card.version and all(map(site.exists, kept["files"])):
            report.unchanged.append(card.slug)
            report.frames_bytes[card.slug] = kept["frames_bytes"]
        else:
            built = write_case(card, run_case(card, cases_dir), cases_dir, environment, site, frames,
                               records=site_plan.server and site_plan.server + "readingroom/records")
            state[card.slug] = {"version": card.version, "files": list(built.files), "frames_bytes": built.frames_bytes}
            _write_state(state_path, state)  # a case done is kept done, even if a later one fails
            report.built.append(card.slug)
            report.frames_bytes[card.slug] = built.frames_bytes
        on_case(card.slug)
    _write_modules_js(site)
    _write_catalog(site, environment, site_plan.cases)
    _write_module_pages(site, environment, site_plan)
    site.write(WORKER, (OFFLINE_TEMPLATES / WORKER).read_bytes())
    for module in site_plan.modules:
        _write_offline_list(site, module, [card for card in site_plan.cases if card.slug in module.cases], state)
    if site_plan.everything:
        report.removed = _prune(site, state, {card.slug for card in site_plan.cases})
        _write_state(state_path, state)
    return report


def _card(cases_dir: Path, slug: str, server: str) -> Card:
    """The case as served, at a version made from its files' bytes, the renderer's (not their dates) and
    the server its page sends records to."""
    folder = cases_dir / slug
    digest = hashlib.blake2b(f"{renderer_version()}\0{server}".encode(), digest_size=8)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    notebook = json.loads((folder / "case.ipynb").read_text(encoding="utf-8"))
    return Card(slug, digest.hexdigest()[:12], notebook)


def renderer_version() -> str:
    """What a page's bytes depend on besides the case: templates, front-end modules, the page code."""
    from readingroom.server import case_pages, stages

    digest = hashlib.blake2b(modules_version().encode(), digest_size=8)
    sources = [Path(case_pages.__file__), Path(stages.__file__), *sorted(Path(__file__).parent.glob("*.py")),
               *sorted(p for folder in (TEMPLATES, OFFLINE_TEMPLATES) for p in folder.rglob("*") if p.is_file())]
    for path in sources:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _write_modules_js(site: SiteWriter) -> None:
    for name, text in served_sources().items():
        site.write(f"readingroom/static/{modules_version()}/{name}", text.encode())


def _write_catalog(site: SiteWriter, environment: jinja2.Environment, cards: list[Card]) -> None:
    unknown = [card.entry("", known=False) for card in cards]
    site.write(KNOWN_INDEX, json.dumps([card.entry("", known=True) for card in cards]).encode())
    page = environment.get_template("catalog.html").render(
        base="", index_json=json.dumps(unknown).replace("</", "<\\/"), count=len(unknown), static_site=True,
        known_index_url=KNOWN_INDEX)
    site.write("index.html", page.encode())


def _write_module_pages(site: SiteWriter, environment: jinja2.Environment, site_plan: SitePlan) -> None:
    ids = {card.slug: card.id for card in site_plan.cases}
    items = [{"module": m, "credits": credits_text(m.credit.max_credits), "progress": None} for m in site_plan.modules]
    site.write("modules/index.html", environment.get_template("modules.html").render(
        base="../", modules=items, static_site=True).encode())
    for module in site_plan.modules:
        page = environment.get_template("static_module.html").render(
            base="../../", module=module, case_ids=[ids[slug] for slug in module.cases], static_site=True,
            server=site_plan.server)
        site.write(f"modules/{module.name}/index.html", page.encode())


def _write_offline_list(site: SiteWriter, module: Module, cards: list[Card], state: dict) -> None:
    """What "Save for offline" stores for ``module``: its page, its cases' pages, stages and frames, the scripts.

    It names the stage files, so it is fetched only when a learner saves the module, never by a case page.
    """
    urls = ["", KNOWN_INDEX, f"modules/{module.name}/", *(f"readingroom/static/{modules_version()}/{name}"
                                                         for name in served_sources())]
    for card in cards:
        urls += [f"cases/{card.id}/", *(f for f in state[card.slug]["files"]
                                        if f.endswith((".json", ".bin", ".jpg")))]
    on_disk = {url: site.root / (url + "index.html" if url.endswith("/") or not url else url) for url in urls}
    files = {url: path.stat().st_size for url, path in on_disk.items()}
    site.write(f"readingroom/offline/{module.name}.json", json.dumps(listing(files)).encode())


def _prune(site: SiteWriter, state: dict, slugs: set[str]) -> int:
    """Remove what earlier builds wrote for cases and versions no longer built; returns how many files."""
    for gone in set(state) - slugs:
        del state[gone]
    used = {f for kept in state.values() for f in kept["files"]}
    stale = [path for folder in ("cases", "readingroom/cases", "readingroom/frames", "readingroom/thumbnails")
             for path in (site.root / folder).rglob("*")
             if path.is_file() and str(path.relative_to(site.root)) not in used]
    for path in stale:
        path.unlink()
    return len(stale)


def _read_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # no earlier build (or an unreadable record of it): build everything


def _write_state(path: Path, state: dict) -> None:
    SiteWriter(path.parent).write(path.name, json.dumps(state, indent=1).encode())

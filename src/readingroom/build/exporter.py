"""``jupyter nbconvert --to readingroom case.ipynb``: the case page as one HTML file that works offline.

nbconvert's own HTML export loads the Jupyter widget manager from a CDN and shows a viewer
only as the picture saved with the notebook. This exporter runs the case once, as
``serve`` and ``build`` do, and renders the same page with the same renderer
(:func:`~readingroom.server.case_pages.case_page_html`); then, so the one file works when
opened from disk with no network, it carries everything it would otherwise fetch:

- the front-end modules, each as a ``data:`` URL named in an import map (their relative
  imports become the map's names);
- the case's frames, base64 in the page, handed to the viewer's own ``fetch`` of
  ``readingroom/frames/...`` by a small shim;
- each later stage as a ``data:`` URL inside the stage before it (base64, so the page's
  text does not show it, though a determined reader can decode it: the file holds it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from nbconvert.exporters import Exporter

from readingroom.build.cases import run_case
from readingroom.build.offline import frame_blobs
from readingroom.build.keys import hashed_key, question_salt
from readingroom.errors import InputError
from readingroom.frames.cache import FrameCache, default_cache_dir
from readingroom.server.base import template_environment
from readingroom.server.case_pages import CaseRun, case_page_html
from readingroom.server.catalog import Card
from readingroom.server.stages import stage_label
from readingroom.widgets.assets import served_sources

IMPORT_NAME = "rr/"  # the import map's prefix for our modules
_RELATIVE_IMPORT = re.compile(r'''((?:\bfrom|\bimport)\s*\(?\s*)"\./([^"]+)"''')
_FRAMES_SHIM = """
(() => {  // the viewer fetches readingroom/frames/<digest>.<kind>: answer from the frames in this file
  const frames = JSON.parse(document.getElementById("rr-frames").textContent);
  const fetchAnywhere = window.fetch.bind(window);
  window.fetch = (url, ...rest) => {
    const name = String(url).match(/readingroom\\/frames\\/([0-9a-f]{32}\\.(?:bin|jpg))$/);
    return name && frames[name[1]] ? fetchAnywhere(`data:application/octet-stream;base64,${frames[name[1]]}`)
      : fetchAnywhere(url, ...rest);
  };
})();
"""


class ReadingroomExporter(Exporter):
    """A case notebook as its readingroom case page, in one self-contained HTML file."""

    export_from_notebook = "readingroom case page"
    output_mimetype = "text/html"

    def _file_extension_default(self) -> str:
        return ".html"

    def from_notebook_node(self, nb, resources=None, **kw):
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        folder = Path((resources.get("metadata") or {}).get("path") or ".").resolve()
        return single_page(json.loads(json.dumps(nb_copy)), folder), resources


def single_page(notebook: dict, folder: Path, frames: FrameCache | None = None) -> str:
    """The case in ``folder`` (its notebook given) as one offline HTML page."""
    from readingroom.case import check_case

    problems = check_case(folder, execute=False).problems
    if problems:
        raise InputError(f"{folder}: {problems[0]}; a case page is made only from a case that passes "
                         f"`readingroom check {folder}`")
    version = hashlib.blake2b(json.dumps(notebook, sort_keys=True).encode(), digest_size=6).hexdigest()
    card = Card(folder.name, version, notebook)
    run = run_case(card, folder.parent)
    frames = frames or FrameCache(default_cache_dir())
    keys = {model_id: hashed_key(key, question_salt(card.version, model_id)) for model_id, key in run.keys.items()}
    page = case_page_html(template_environment(), run, stages_url="data:application/json;base64,{key}",
                          first_key=_stage_chain(run), scoring={"keys": keys}, frame_bundles=False)
    return _self_contained(page, _frames_json(run, frames))


def _stage_chain(run: CaseRun) -> str | None:
    """Stage 1 as base64 JSON, holding stage 2 the same way, and so on; None for a one-stage case."""
    inner = None
    for number in range(len(run.later_stages), 0, -1):
        answers = {model_id: key.explained() for model_id, key in run.keys.items()
                   if run.key_stage[model_id] == number - 1}
        following = None if inner is None else {"number": number + 1, "label": stage_label(run.notebook, number + 1),
                                                "key": inner}
        body = {"number": number, **run.later_stages[number - 1].for_page(), "answers": answers, "next": following}
        inner = base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
    return inner


def _frames_json(run: CaseRun, frames: FrameCache) -> str:
    found = {}
    for digest, kind in sorted(frame_blobs([run.widgets] + [s.for_page() for s in run.later_stages])):
        data = frames.get(digest, kind)
        if data is None:
            raise InputError(f"frame {digest}.{kind} is missing from the frame cache {frames.root}: export again")
        found[f"{digest}.{kind}"] = base64.b64encode(data).decode()
    return json.dumps(found)


def _self_contained(page: str, frames_json: str) -> str:
    """The served page's module scripts swapped for the modules themselves, and its frames added."""
    imports = {f"{IMPORT_NAME}{name}": _data_url(_RELATIVE_IMPORT.sub(rf'\1"{IMPORT_NAME}\2"', text))
               for name, text in served_sources().items()}
    head = (f'<script type="importmap">{json.dumps({"imports": imports})}</script>\n'
            f'<script id="rr-frames" type="application/json">{frames_json}</script>\n'
            f"<script>{_FRAMES_SHIM}</script>\n")
    page = re.sub(r'<link rel="modulepreload"[^>]*>\n?', "", page)
    page, found = re.subn(r'<script type="module" src="[^"]*/case_page\.js"></script>',
                          f'<script type="module">import "{IMPORT_NAME}case_page.js";</script>', page)
    if found != 1:
        raise RuntimeError("the case page template no longer loads case_page.js as the exporter expects")
    return page.replace("</head>", head + "</head>", 1)


def _data_url(text: str) -> str:
    return "data:text/javascript;base64," + base64.b64encode(text.encode()).decode()

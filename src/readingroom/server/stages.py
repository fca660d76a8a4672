"""Staged reveal that holds back the answers on the server, not in CSS.

Voila is given the *unknown* view of a case: the cells before the first reveal
point and only the metadata a card shows. Later stages are rendered here, one
at a time, when the visitor asks for them with the key that came with the
previous stage, so the page source never holds an answer it has not revealed.

Code cells after a reveal point are never run in a visitor's kernel: a widget's
whole state (annotations, labels, descriptions) reaches the browser over the
comm as soon as the page connects, whatever the HTML shows. The server runs
every stage once itself (:mod:`.case_pages`) and sends a stage's widgets, or
pictures of them, with its reveal. Until that run is done, a stage is rendered
here from its saved outputs (images, text, HTML); a widget without a saved
picture is replaced by a short note.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import re
from typing import Callable

from readingroom.case.metadata import METADATA_KEY
from readingroom.case.roles import ROLES, cell_roles, stages
from readingroom.server.sanitize import clean_html, markdown_html

PUBLIC_FIELDS = ("presentation", "age", "sex", "modalities", "region", "system", "difficulty", "minutes", "training_level")
STAGES_KEY = "readingroom_stages"
_GENERIC_LABELS = {r.replace("-", " ") for r in ROLES} | {"answer", "answers", "the answer", "discussion and teaching points"}


def stage_key(secret: bytes, case_id: str, number: int, version: str) -> str:
    """The key that unlocks stage ``number``; it is handed out with stage ``number - 1``."""
    return hmac.new(secret, f"{case_id}\0{number}\0{version}".encode(), hashlib.sha256).hexdigest()[:24]


def stage_label(notebook: dict, number: int) -> str:
    """A button label from the reveal cell's heading, only when it cannot give the answer away."""
    cell = notebook["cells"][stages(notebook)[number].cell_indices[0]]
    for line in _source(cell).splitlines():
        heading = re.match(r"\s*#+\s*(.+?)\s*#*\s*$", line)
        if heading:
            text = heading.group(1).strip()
            return text if text.lower() in _GENERIC_LABELS else f"stage {number + 1}"
    return f"stage {number + 1}"


def unknown_view(notebook: dict, *, case_id: str, secret: bytes, version: str, all_stages: bool = False) -> dict:
    """The notebook Voila runs: stage 0 cells, public metadata, and how to ask for stage 1.

    ``all_stages`` keeps every stage's cells: the case page's one run, on the server, which reads
    the widgets out stage by stage (:mod:`.case_run`) and sends each stage's only when revealed.
    """
    parts = stages(notebook)
    view = copy.deepcopy(notebook)
    if not all_stages:
        view["cells"] = [view["cells"][i] for i in parts[0].cell_indices]
    case = notebook.get("metadata", {}).get(METADATA_KEY) or {}
    metadata = {k: v for k, v in notebook.get("metadata", {}).items() if k != METADATA_KEY}
    metadata[METADATA_KEY] = {k: case[k] for k in PUBLIC_FIELDS if k in case}
    metadata["title"] = "Unknown case"  # the page title; never the case's own
    metadata[STAGES_KEY] = {"case_id": case_id, "count": len(parts), "next": next_stage(notebook, case_id, 1, secret, version)}
    view["metadata"] = metadata
    return view


def next_stage(notebook: dict, case_id: str, number: int, secret: bytes, version: str) -> dict | None:
    """What the Reveal button needs to ask for stage ``number``, or None after the last stage."""
    if number >= len(stages(notebook)):
        return None
    return {"number": number, "label": stage_label(notebook, number), "key": stage_key(secret, case_id, number, version)}


def render_stage(notebook: dict, number: int, *, case_id: str, secret: bytes, version: str) -> dict:
    """Stage ``number`` as HTML plus what the next Reveal button needs."""
    return {"number": number, "html": stage_html(notebook, number),
            "next": next_stage(notebook, case_id, number + 1, secret, version)}


def stage_html(notebook: dict, number: int, widget_html: Callable[[str], str | None] | None = None) -> str:
    """Stage ``number``'s cells as HTML; ``widget_html`` as for :func:`cell_html`."""
    return "\n".join(cell_html(notebook["cells"][i], widget_html) for i in stages(notebook)[number].cell_indices)


def cell_html(cell: dict, widget_html: Callable[[str], str | None] | None = None) -> str:
    """One cell as a section classed by its roles.

    ``widget_html(model_id)`` places a live widget; without it, or when it gives None, a widget
    shows as its saved picture.
    """
    roles = cell_roles(cell)
    classes = " ".join(["rr-cell"] + [f"rr-role-{r}" for r in roles])
    if cell.get("cell_type") == "markdown":
        inner = markdown_html(_source(cell))
    elif cell.get("cell_type") == "code":
        inner = _outputs_html(cell.get("outputs", []), widget_html)
    else:
        inner = ""
    return f'<section class="{classes}">{inner}</section>' if inner.strip() else ""


def _outputs_html(outputs: list, widget_html: Callable[[str], str | None] | None) -> str:
    parts = []
    for output in outputs:
        data = output.get("data", {})
        widget = data.get("application/vnd.jupyter.widget-view+json")
        placed = widget_html(widget["model_id"]) if widget and widget_html else None
        if placed is not None:
            parts.append(placed)
        elif "image/png" in data:
            parts.append(f'<img alt="figure" src="data:image/png;base64,{_joined(data["image/png"]).strip()}">')
        elif "image/jpeg" in data:
            parts.append(f'<img alt="figure" src="data:image/jpeg;base64,{_joined(data["image/jpeg"]).strip()}">')
        elif "text/html" in data and "application/vnd.jupyter.widget-view+json" not in data:
            parts.append(clean_html(_joined(data["text/html"])))
        elif widget:
            parts.append('<p class="rr-note">An interactive viewer belongs here; open the case in JupyterLab to use it.</p>')
        elif "text/plain" in data or output.get("output_type") == "stream":
            parts.append(f"<pre>{html.escape(_joined(data.get('text/plain', output.get('text', ''))))}</pre>")
    return "\n".join(parts)


def _source(cell: dict) -> str:
    return _joined(cell.get("source", ""))


def _joined(value) -> str:
    return value if isinstance(value, str) else "".join(value)

"""A new case notebook: the unknown first, then staged reveals, one viewer per series."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from readingroom.case.metadata import METADATA_KEY
from readingroom.case.roles import REVEAL


def _cell(kind, source: str, *roles: str):
    cell = new_markdown_cell(source) if kind == "md" else new_code_cell(source)
    cell.metadata["tags"] = list(roles)
    return cell


def _viewers(series_count: int, start: tuple[int, int] | None) -> str:
    """``viewer`` (or ``viewers``) stay named so a locate question can point at them;
    ``start`` (series, frame), a key image, is where its series' viewer opens."""
    def frame(k: int) -> str:
        return f", frame={start[1]}" if start and start[0] == k else ""

    lines = ["from readingroom.widgets import Viewer", ""]
    if series_count == 1:
        lines += [f'viewer = Viewer("images"{frame(0)})', "viewer"]
    else:
        lines.append("from ipywidgets import VBox")
        lines.append("viewers = [" + ", ".join(f'Viewer("images", series={k}{frame(k)})' for k in range(series_count)) + "]")
        lines.append("VBox(viewers)")
    return "\n".join(lines)


QUESTION = """from readingroom.widgets import Question

Question.single(
    "What is the most likely diagnosis?",
    options=["TODO: option A", "TODO: option B", "TODO: option C"],
    answer=0,
    feedback={0: "TODO: why this fits", 1: "TODO: why not", 2: "TODO: why not"},
    explanation="TODO: the key imaging features",
)"""


def case_notebook(metadata: dict, series_count: int, *, start: tuple[int, int] | None = None) -> nbformat.NotebookNode:
    """The case skeleton an educator fills in: sections carry their roles as cell tags."""
    age = metadata.get("age", {})
    patient = " ".join(p for p in (f"{age.get('value')} {age.get('unit', '')}".strip() if age else "", metadata.get("sex", "")) if p)
    cells = [
        _cell("md", f"## Presentation\n\n{metadata.get('presentation', 'TODO: one or two sentences of history.')}\n\n{patient}", "history"),
        _cell("code", _viewers(series_count, start), "images"),
        _cell("md", "## Question\n\nWhat are the findings? What is your differential?", "question"),
        _cell("code", QUESTION, "question"),
        _cell("md", "---\n\n### Findings", REVEAL),
        _cell("md", "TODO: describe only what is visible on these images.", "findings"),
        _cell("md", "## Differential\n\nTODO: a short, case-specific differential.", "differential"),
        _cell("md", "---\n\n### Diagnosis", REVEAL),
        _cell("md", f"## Diagnosis\n\n{metadata.get('diagnosis') or metadata.get('title', '')}", "diagnosis"),
        _cell("md", "## Discussion\n\nTODO: why this diagnosis; what to look for next time.", "discussion"),
        _cell("md", "## Teaching points\n\n- TODO", "teaching-points"),
        _cell("md", "## References\n\n1. TODO", "references"),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata[METADATA_KEY] = metadata
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook

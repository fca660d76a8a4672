"""`readingroom check`: everything a case must satisfy before an audience sees it.

Each check returns readable problems; a case with none passes. The checks:
metadata against the schema, role tags, answers hidden until the first reveal,
narrative text free of identifiers, every image still de-identified (headers and,
where text is usually burned in, pixels), markup that would run script (pages strip it, so
the author should know), and a headless run without errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import nbformat.reader

from readingroom.case.metadata import METADATA_KEY, metadata_problems
from readingroom.case.roles import ANSWER_ROLES, cell_roles, stages, unknown_tags

NOTEBOOK = "case.ipynb"
IMAGES = "images"
DEID_REPORT = "deid.json"
PLACEHOLDER = "TODO"


@dataclass
class CaseCheck:
    """The verdict for one case folder."""

    folder: Path
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def check_case(folder: Path, *, execute: bool = True, timeout: int = 120) -> CaseCheck:
    result = CaseCheck(folder)
    notebook = _read_notebook(folder, result)
    if notebook is None:
        return result
    metadata = notebook.metadata.get(METADATA_KEY)
    result.problems += metadata_problems(metadata)
    result.problems += [f"cell {i + 1}: tag {tag!r} is not a role; did you mean one of the role tags?" for i, tag in unknown_tags(notebook)]
    result.problems += placeholders(notebook, metadata)
    result.problems += spoilers(notebook, metadata if isinstance(metadata, dict) else {})
    result.problems += narrative_phi(notebook)
    result.problems += active_markup(notebook)
    result.problems += image_problems(folder)
    if execute and not result.problems:
        result.problems += execution_errors(folder, notebook, timeout)
    return result


def _read_notebook(folder: Path, result: CaseCheck):
    path = folder / NOTEBOOK
    if not path.is_file():
        result.problems.append(f"{NOTEBOOK} is missing; create the case with `readingroom new`")
        return None
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except (nbformat.reader.NotJSONError, json.JSONDecodeError, nbformat.ValidationError, UnicodeDecodeError) as error:
        result.problems.append(f"{NOTEBOOK} is not a valid notebook: {str(error).splitlines()[0]}")
        return None
    return notebook


def placeholders(notebook, metadata) -> list[str]:
    """Template text the educator has not replaced yet (marked TODO)."""
    problems = [f"metadata {where} still holds the template's TODO" for where in _todo_paths(metadata, "")]
    for index, cell in enumerate(notebook.cells):
        if PLACEHOLDER in cell.get("source", ""):
            problems.append(f"cell {index + 1} still holds the template's TODO text")
    return problems


def _todo_paths(value, where: str) -> list[str]:
    if isinstance(value, str):
        return [where.lstrip(".")] if PLACEHOLDER in value else []
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _todo_paths(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _todo_paths(item, f"{where}.{i}")]
    return []


def spoilers(notebook, metadata: dict) -> list[str]:
    """Answers visible in the unknown (before the first reveal point)."""
    unknown = stages(notebook)[0].cell_indices
    problems = []
    candidates = (metadata.get("diagnosis"), metadata.get("title"))
    secrets = list({s.lower(): s for s in candidates if isinstance(s, str) and len(s) >= 4}.values())
    for index in unknown:
        cell = notebook.cells[index]
        for role in sorted(set(cell_roles(cell)) & ANSWER_ROLES):
            problems.append(f"cell {index + 1} ({role}) comes before the first reveal point, so the audience sees the answer; move it after a cell tagged 'reveal'")
        if "question" in cell_roles(cell):
            continue  # options may name the diagnosis; the key stays in the kernel
        text = _visible_text(cell).lower()
        for secret in secrets:
            if secret.lower() in text:
                problems.append(f"cell {index + 1} shows {secret!r} before the first reveal point; the unknown would be given away")
    return problems


def narrative_phi(notebook) -> list[str]:
    """Identifiers in the text an audience reads (sources and outputs)."""
    from readingroom.deid import scan_text

    problems = []
    for index, cell in enumerate(notebook.cells):
        for finding in scan_text(_visible_text(cell)):
            problems.append(f"cell {index + 1}: possible identifier ({finding.rule}) in the narrative; remove it")
    return problems


def active_markup(notebook) -> list[str]:
    """Raw ``<script>`` (and other elements that run or load code, or move the page's base), event-handler
    attributes and ``javascript:`` links, in markdown or saved HTML outputs.

    Pages sanitize them away (:mod:`readingroom.server.sanitize`); a case holding them reads
    differently in JupyterLab than on the site, so the author hears of each, with its cell.
    """
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") == "markdown":
            html = [markdown2html_mistune(cell.get("source", ""))]
        else:
            html = [_joined(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", [])]
        finder = _ActiveMarkup()
        for part in html:
            finder.feed(part)
            finder.close()
        problems += [f"cell {index + 1}: {found}; pages remove it, so take it out of the case" for found in finder.found]
    return problems


ACTIVE_ELEMENTS = ("script", "iframe", "object", "embed", "base", "meta", "link")


class _ActiveMarkup(HTMLParser):
    """Collects, in order and once each, what in some HTML would run script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_ELEMENTS:
            self._add(f"raw <{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self._add(f"event-handler attribute {name}= on <{tag}>")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith("javascript:"):
                self._add(f"javascript: link in {name}= on <{tag}>")

    def _add(self, problem: str) -> None:
        if problem not in self.found:
            self.found.append(problem)


def image_problems(folder: Path) -> list[str]:
    """Every image must open and still pass the de-identification checks."""
    from readingroom.case.images import verify_images

    images = folder / IMAGES
    if not images.is_dir():
        return [f"{IMAGES}/ is missing; a case needs its de-identified images"]
    if not (folder / DEID_REPORT).is_file():
        return [f"{DEID_REPORT} is missing; images must come through `readingroom new` or `readingroom deid`"]
    return verify_images(images)


def execution_errors(folder: Path, notebook, timeout: int) -> list[str]:
    """Run the notebook headless in its folder, as Voila will."""
    from readingroom.case.execute import NotebookRunError, run_notebook

    try:
        run_notebook(notebook, folder, timeout)
    except NotebookRunError as error:
        return [str(error)]
    return []


def _joined(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def _visible_text(cell) -> str:
    parts = [cell.get("source", "")]
    for output in cell.get("outputs", []):
        parts.append(output.get("text", "") if isinstance(output.get("text"), str) else "")
        for mime in ("text/plain", "text/markdown", "text/html"):
            value = output.get("data", {}).get(mime)
            if value:
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)

"""A Voila page (our serving app) with one question of each kind under a phantom Viewer.

Reuses the browser fixtures (Debian's Chromium via Playwright) and server helpers
from tests/browser/conftest.py.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from tests.browser.conftest import PHANTOM
from tests.servers import LAB_ARGS, Server, free_port, jupyter_env, jupyter_server

FRAME = 12


def lesion_region() -> dict:
    """The phantom's lesion on FRAME as an ellipse in image pixels (ground truth from its geometry)."""
    from readingroom.dicom.synthetic import phantom_geometry

    g = phantom_geometry(PHANTOM["size"], PHANTOM["pixel_spacing"], PHANTOM["slices"], PHANTOM["slice_spacing"])
    sx, sy = PHANTOM["pixel_spacing"]
    mid = (PHANTOM["size"] - 1) / 2
    r = g.lesion_radius_mm * 0.9
    return {"frame": FRAME, "center": [mid + g.lesion_center_mm[0] / sx, mid + g.lesion_center_mm[1] / sy],
            "radius": [r / sx, r / sy]}


def _cell(i: int, source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": source}


@pytest.fixture(scope="session")
def question_workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("question-e2e")


def question_cells(images: str) -> list[str]:
    """A phantom Viewer and one question of each kind, the viewer reading ``images``."""
    return [
        f"from readingroom.widgets import Question, Viewer\nviewer = Viewer({images!r}, frame={FRAME})\nviewer",
        'Question.single("Where is the collection?", options=["Subdural", "Extradural", "Subarachnoid"], answer=1,\n'
        '    feedback={0: "A subdural collection is crescentic.", 1: "Lentiform and limited by sutures."},\n'
        '    explanation="EXPLANATION-SINGLE: lentiform shape.", attempts=2)',
        'Question.multiple("Signs of mass effect?", options=["Midline shift", "Effaced sulci", "Calcification"],\n'
        '    answers={0, 1}, feedback={2: "Calcification is not mass effect."}, explanation="EXPLANATION-MULTIPLE")',
        'Question.free_text("Describe the findings.", model_answer="MODEL-ANSWER: a round lesion in the right lobe.")',
        f"Question.locate(\"Click the lesion.\", viewer=viewer, region={lesion_region()!r},\n"
        '    explanation="EXPLANATION-LOCATE", attempts=2)',
    ]


@pytest.fixture(scope="session")
def phantom_study(question_workdir):
    from readingroom.dicom.synthetic import write_ct_phantom

    phantom = question_workdir / "phantom"
    write_ct_phantom(phantom, **PHANTOM)
    return phantom


@pytest.fixture(scope="session")
def question_notebook(question_workdir, phantom_study):
    folder = question_workdir / "notebooks"
    folder.mkdir()
    nb = {"cells": [_cell(i, s) for i, s in enumerate(question_cells(str(phantom_study)))],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = folder / "questions.ipynb"
    path.write_text(json.dumps(nb))
    return path


QUESTIONS_CASE = "phantom-questions"
LIVE_CASE = "phantom-with-a-slider"
LIVE_RAW_HTML = 'LIVE-RAW-HTML <form action="/steal"><input name="password" type="password"></form>'
BROKEN_CASE = "phantom-that-fails"
PAIRS_CASE = "phantom-side-by-side"
TWO_SERIES_CASE = "phantom-two-series"
REVEALED_CASE = "phantom-finding-revealed"
LIVE_REVEALED_CASE = "phantom-finding-revealed-with-a-slider"
SECOND_SERIES = {"slices": 8, "size": 128, "pixel_spacing": (1.0, 1.0), "slice_spacing": 5.0}
PAIRS = (  # prior vs current linked by slice position, and a pair linked frame for frame with jslink
    "from readingroom.widgets import Viewer, side_by_side\n"
    "side_by_side(Viewer('images', frame=5), Viewer('images', frame=5))",
    "import ipywidgets\na, b = Viewer('images', frame=5), Viewer('images', frame=5)\n"
    "ipywidgets.jslink((a, 'frame'), (b, 'frame'))\nipywidgets.VBox([a, b])",
)


@pytest.fixture(scope="session")
def question_cases(question_workdir, phantom_study):
    """Cases made as an educator makes them (`readingroom new`): the questions, plus variants of it.

    The live case adds an ipywidgets slider, which needs a kernel; the broken one raises when
    run; the side-by-side one shows linked pairs of viewers instead of the questions; the
    revealed one points at its finding only after the reveal.
    """
    import nbformat

    from readingroom.case import new_case
    from tests.case.conftest import fill_in

    cases = question_workdir / "cases"
    made = new_case("Phantom questions", phantom_study, cases, key_path=question_workdir / "deid.key").folder
    path = made / "case.ipynb"
    notebook = nbformat.read(path, as_version=4)
    fill_in(notebook)
    history = next(c for c in notebook.cells if "history" in c.metadata.get("tags", []))
    notebook.cells = [history] + [nbformat.v4.new_code_cell(source) for source in question_cells("images")]
    nbformat.write(notebook, path)
    for slug, extra in ((LIVE_CASE, "import ipywidgets\nipywidgets.IntSlider(description='Contrast')"),
                        (BROKEN_CASE, "raise ValueError('the educator left a mistake here')")):
        shutil.copytree(made, cases / slug)
        variant = nbformat.read(cases / slug / "case.ipynb", as_version=4)
        variant.cells.insert(2, nbformat.v4.new_code_cell(extra))
        if slug == LIVE_CASE:  # raw HTML in its markdown, which Voila must not pass through as it is
            variant.cells.insert(1, nbformat.v4.new_markdown_cell(LIVE_RAW_HTML, metadata={"tags": ["history"]}))
        nbformat.write(variant, cases / slug / "case.ipynb")
    shutil.copytree(made, cases / PAIRS_CASE)
    pairs = nbformat.read(cases / PAIRS_CASE / "case.ipynb", as_version=4)
    pairs.cells = pairs.cells[:1] + [nbformat.v4.new_code_cell(source) for source in PAIRS]
    nbformat.write(pairs, cases / PAIRS_CASE / "case.ipynb")
    _two_series_case(question_workdir, cases, history)
    _revealed_finding_case(made, cases)
    return cases


def _revealed_finding_case(made, cases) -> None:
    """Findings drawn on the unknown's viewer and shown in a second viewer, in a stage of their own;
    the last stage's cell fails, as a half-finished edit would. A copy adds a slider, so Voila serves it."""
    import nbformat

    shutil.copytree(made, cases / REVEALED_CASE)
    path = cases / REVEALED_CASE / "case.ipynb"
    notebook = nbformat.read(path, as_version=4)
    lesion = lesion_region()["center"]

    def reveal(heading: str):
        return nbformat.v4.new_markdown_cell(f"---\n\n### {heading}", metadata={"tags": ["reveal"]})

    notebook.cells = notebook.cells[:1] + [
        nbformat.v4.new_code_cell(f"from readingroom.widgets import Viewer\nviewer = Viewer('images', frame={FRAME})\nviewer"),
        reveal("Findings"),
        nbformat.v4.new_code_cell(f"viewer.annotate('arrow', frame={FRAME}, points=[[5, 5], {lesion!r}], text='FINDING-ARROW')\n"
                                  "Viewer('images', frame=3)"),
        reveal("Diagnosis"),
        nbformat.v4.new_markdown_cell("DIAGNOSIS-TEXT: a round lesion.", metadata={"tags": ["diagnosis"]}),
        nbformat.v4.new_code_cell("raise ValueError('unfinished edit')"),
    ]
    nbformat.write(notebook, path)
    shutil.copytree(cases / REVEALED_CASE, cases / LIVE_REVEALED_CASE)  # the same, served live by Voila
    notebook.cells.insert(2, nbformat.v4.new_code_cell("import ipywidgets\nipywidgets.IntSlider(description='Contrast')"))
    nbformat.write(notebook, cases / LIVE_REVEALED_CASE / "case.ipynb")


def _two_series_case(workdir, cases, history) -> None:
    """One viewer over a study of two series (the phantom and a smaller one): the page switches between them."""
    import nbformat

    from readingroom.case import new_case
    from readingroom.dicom.synthetic import write_ct_phantom
    from tests.case.conftest import fill_in

    study = workdir / "two-series"
    write_ct_phantom(study / "first", **PHANTOM)
    write_ct_phantom(study / "second", **SECOND_SERIES)
    made = new_case("Phantom two series", study, cases, key_path=workdir / "deid.key").folder
    notebook = nbformat.read(made / "case.ipynb", as_version=4)
    fill_in(notebook)
    notebook.cells = [history, nbformat.v4.new_code_cell("from readingroom.widgets import Viewer\nViewer('images')")]
    nbformat.write(notebook, made / "case.ipynb")


@pytest.fixture(scope="session")
def question_served(question_workdir, question_cases):
    """`readingroom serve` over the question cases."""
    from tests.serve.conftest import start_serve

    server = start_serve(question_cases, question_workdir)
    yield server
    server.stop()


def case_url(server, slug: str) -> str:
    from readingroom.server.catalog import public_id

    return f"{server.url}cases/{public_id(slug)}/"


@pytest.fixture(scope="session")
def question_voila(question_workdir, question_notebook):
    """Our serving app (Voila + readingroom handlers) on the questions notebook."""
    port = free_port()
    server = Server(
        [sys.executable, "-m", "readingroom.server.voila_app", str(question_notebook), "--no-browser",
         f"--port={port}", "--Voila.ip=127.0.0.1"],
        jupyter_env(question_workdir, question_workdir / "frame-cache", "voila"), question_notebook.parent,
        question_workdir / "voila.log", port, "voila/static/voila.js")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def question_lab(question_workdir, question_notebook):
    """JupyterLab with the readingroom server extension, rooted at the questions notebook."""
    server = jupyter_server("jupyterlab", LAB_ARGS, question_workdir, question_notebook.parent,
                             question_workdir / "frame-cache", "lab", "jupyterlab.log")
    yield server
    server.stop()

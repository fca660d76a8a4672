"""Questions in real pages (Voila, JupyterLab, a served case page): what the learner sees after each answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.question.conftest import QUESTIONS_CASE, case_url, lesion_region

pytestmark = pytest.mark.browser
LOAD = 180_000  # a kernel starting on a loaded 2-core machine


def question(page, kind: str):
    root = page.locator(f"[data-rr-question][data-kind={kind}]")
    expect(root).to_have_count(1, timeout=LOAD)
    return root


def click_image(canvas, x: float, y: float) -> None:
    """Click image pixel (x, y) of the question's canvas, whatever its displayed size."""
    width, height = int(canvas.get_attribute("width")), int(canvas.get_attribute("height"))
    box = canvas.bounding_box()
    canvas.click(position={"x": (x + 0.5) * box["width"] / width, "y": (y + 0.5) * box["height"] / height})


@pytest.fixture(params=["voila", "case page"])
def question_page_url(request) -> str:
    """The same questions in a Voila page (kernel scores) and on a served case page (the server scores)."""
    if request.param == "voila":
        return request.getfixturevalue("question_voila").url
    return case_url(request.getfixturevalue("question_served"), QUESTIONS_CASE)


def test_mouse_answers_show_the_right_feedback(page, question_page_url):
    page.goto(question_page_url, timeout=LOAD)  # a case page's first visit waits for the case's run

    single = question(page, "single")
    expect(single).to_have_attribute("data-state", "unanswered")
    expect(page.locator("body")).not_to_contain_text("EXPLANATION-SINGLE")
    single.get_by_label("Subdural").check()
    single.get_by_role("button", name="Submit").click()
    expect(single).to_have_attribute("data-state", "incorrect")
    status = single.get_by_role("status")
    expect(status).to_contain_text("Incorrect.")
    expect(status).to_contain_text("A subdural collection is crescentic.")
    expect(status).to_contain_text("1 attempt left")
    expect(single).not_to_contain_text("EXPLANATION-SINGLE")
    expect(single).not_to_contain_text("Lentiform")
    single.get_by_role("button", name="Try again").click()
    expect(single).to_have_attribute("data-state", "unanswered")
    single.get_by_label("Extradural").check()
    single.get_by_role("button", name="Submit").click()
    expect(single).to_have_attribute("data-state", "correct")
    expect(status).to_contain_text("Correct.")
    expect(status).to_contain_text("Lentiform and limited by sutures.")
    expect(status).to_contain_text("EXPLANATION-SINGLE")
    expect(single.get_by_role("button", name="Try again")).to_be_hidden()

    multiple = question(page, "multiple")
    multiple.get_by_label("Midline shift").check()
    multiple.get_by_label("Calcification").check()
    multiple.get_by_role("button", name="Submit").click()
    expect(multiple).to_have_attribute("data-state", "incorrect")
    expect(multiple.get_by_role("status")).to_contain_text("Calcification is not mass effect.")
    multiple.get_by_role("button", name="Try again").click()
    expect(multiple.get_by_label("Calcification")).not_to_be_checked()
    multiple.get_by_label("Midline shift").check()
    multiple.get_by_label("Effaced sulci").check()
    multiple.get_by_role("button", name="Submit").click()
    expect(multiple).to_have_attribute("data-state", "correct")
    expect(multiple.get_by_role("status")).to_contain_text("EXPLANATION-MULTIPLE")

    free = question(page, "free_text")
    expect(page.locator("body")).not_to_contain_text("MODEL-ANSWER")
    free.get_by_role("textbox").fill("A round hyperdense lesion.")
    free.get_by_role("button", name="Submit").click()
    expect(free).to_have_attribute("data-state", "answered")
    expect(free.get_by_role("status")).to_contain_text("MODEL-ANSWER: a round lesion in the right lobe.")
    expect(free.get_by_role("textbox")).to_have_value("A round hyperdense lesion.")

    locate = question(page, "locate")
    canvas = locate.locator("canvas")
    expect(canvas).to_have_attribute("data-painted", "true", timeout=LOAD)
    expect(canvas).to_have_attribute("data-frame", "12")
    region = lesion_region()
    cx, cy = region["center"]
    click_image(canvas, 20, 20)  # air, far outside the lesion
    locate.get_by_role("button", name="Submit").click()
    expect(locate).to_have_attribute("data-state", "incorrect")
    expect(locate.get_by_role("status")).to_contain_text("Incorrect.")
    expect(locate).not_to_contain_text("EXPLANATION-LOCATE")
    locate.get_by_role("button", name="Try again").click()
    expect(locate).to_have_attribute("data-state", "unanswered")
    click_image(canvas, cx + 3, cy - 2)
    locate.get_by_role("button", name="Submit").click()
    expect(locate).to_have_attribute("data-state", "correct")
    expect(locate.get_by_role("status")).to_contain_text("EXPLANATION-LOCATE")

    assert page.console.errors == []


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector`` (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_alone_answers_choice_and_locate(page, question_page_url):
    page.goto(question_page_url, timeout=LOAD)  # a case page's first visit waits for the case's run
    single = question(page, "single")
    locate = question(page, "locate")
    expect(locate.locator("canvas")).to_have_attribute("data-painted", "true", timeout=LOAD)

    tab_to(page, "[data-kind=single] input")
    page.keyboard.press("ArrowDown")  # moves to and checks the second option
    expect(single.get_by_label("Extradural")).to_be_checked()
    page.keyboard.press("Enter")
    expect(single).to_have_attribute("data-state", "correct")
    expect(single.get_by_role("status")).to_contain_text("Correct.")

    multiple = question(page, "multiple")
    tab_to(page, "[data-kind=multiple] input")
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(multiple.get_by_label("Effaced sulci")).to_be_checked()
    page.keyboard.press("Enter")
    expect(multiple).to_have_attribute("data-state", "correct")

    tab_to(page, "[data-kind=locate] canvas")
    size = int(locate.locator("canvas").get_attribute("height"))
    step = max(1, round(0.02 * size))
    below = lesion_region()["center"][1] - (size - 1) / 2  # the crosshair starts at the centre
    for _ in range(round(below / step)):
        page.keyboard.press("ArrowDown")
    expect(locate).to_contain_text("Marker at")
    page.keyboard.press("Enter")
    expect(locate).to_have_attribute("data-state", "correct")
    expect(locate.get_by_role("status")).to_contain_text("EXPLANATION-LOCATE")

    assert page.console.errors == []


def test_jupyterlab_runs_the_questions(page, question_lab):
    from tests.servers import TOKEN

    page.goto(f"{question_lab.url}lab/tree/questions.ipynb?token={TOKEN}")
    page.locator(".jp-Notebook").wait_for(timeout=LOAD)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=LOAD)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    locate = question(page, "locate")  # the last cell: Run All has finished moving the focus
    expect(locate.locator("canvas")).to_have_attribute("data-painted", "true", timeout=LOAD)
    expect(page.locator(".jp-InputPrompt").filter(has_text="[*]")).to_have_count(0, timeout=LOAD)
    single = question(page, "single")
    single.get_by_label("Subdural").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # answered, not swallowed by JupyterLab's shortcuts
    expect(single).to_have_attribute("data-state", "correct")
    expect(single.get_by_role("status")).to_contain_text("EXPLANATION-SINGLE")
    click_image(locate.locator("canvas"), 20, 20)
    locate.get_by_role("button", name="Submit").click()
    expect(locate).to_have_attribute("data-state", "incorrect")
    # JupyterLab itself asks for a few resources that 404 (as in tests/browser/test_hosts.py)
    assert [e for e in page.console.errors if not e.startswith("Failed to load resource")] == []


def test_locate_image_follows_the_viewer_until_answered(page, question_page_url):
    """The learner scrolls the viewer to find the finding; the question's image goes with it, in every host."""
    page.goto(question_page_url, timeout=LOAD)  # a case page's first visit waits for the case's run
    locate = question(page, "locate")
    canvas = locate.locator("canvas")
    expect(canvas).to_have_attribute("data-frame", "12", timeout=LOAD)
    viewer = page.locator("[data-rr-viewer]")
    expect(viewer).to_have_attribute("data-tier", "lossless", timeout=LOAD)
    viewer.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(viewer).to_have_attribute("data-frame", "14")
    expect(canvas).to_have_attribute("data-frame", "14", timeout=LOAD)

    cx, cy = lesion_region()["center"]
    click_image(canvas, cx, cy)  # where the lesion is on its own slice, but this is another one
    locate.get_by_role("button", name="Submit").click()
    expect(locate).to_have_attribute("data-state", "incorrect")
    expect(locate.get_by_role("status")).to_contain_text("not on this image")
    locate.get_by_role("button", name="Try again").click()
    viewer.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(canvas).to_have_attribute("data-frame", "12", timeout=LOAD)
    click_image(canvas, cx, cy)
    locate.get_by_role("button", name="Submit").click()
    expect(locate).to_have_attribute("data-state", "correct")
    assert page.console.errors == []

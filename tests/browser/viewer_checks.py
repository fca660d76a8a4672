"""What a user would check on any host: the same assertions for every page that shows the phantom.

The phantom (see ``conftest.PHANTOM``): 256x256 pixels of 0.5 mm, 24 slices; air
(-1000 HU, no noise) outside a 53.8 mm radius body whose outer 6.4 mm is bone
(700 HU); the viewer opens on slice 12 with the header window 40/80.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from readingroom.dicom.synthetic import AIR_HU, BONE_HU
from readingroom.widgets.view_state import view_schema

ROOT = "[data-rr-viewer]"
CANVAS_NON_BLANK = """(root) => {
  const c = root.querySelector("canvas");
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let lit = 0;
  for (let i = 0; i < d.length; i += 4 * 97) if (d[i] > 40) lit++;
  return root.dataset.tier === "lossless" && lit > 50;
}"""


def viewer(scope):
    root = scope.locator(ROOT)
    expect(root).to_have_count(1, timeout=60_000)  # one viewer on the page
    return root


def wait_painted(root) -> None:
    expect(root).to_have_attribute("data-tier", "lossless", timeout=60_000)
    root.element_handle().wait_for_element_state("visible")
    root.page.wait_for_function(CANVAS_NON_BLANK, arg=root.element_handle(), timeout=30_000)


def client_point(root, x: float, y: float) -> tuple[float, float]:
    return tuple(root.evaluate("(el, p) => el.imageToClient(p[0], p[1])", [x, y]))


def check_scrolling(root) -> None:
    page = root.page
    start = int(root.get_attribute("data-frame"))
    expect(root).to_have_attribute("data-frames", "24")
    x, y = client_point(root, 128, 128)
    page.mouse.move(x, y)
    page.mouse.wheel(0, 100)
    expect(root).to_have_attribute("data-frame", str(start + 1))
    root.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(root).to_have_attribute("data-frame", str(start - 1))
    page.keyboard.press("End")
    expect(root).to_have_attribute("data-frame", "23")
    page.keyboard.press("Home")
    expect(root).to_have_attribute("data-frame", "0")
    wait_painted(root)


def check_windowing(root) -> None:
    page = root.page
    root.focus()
    page.keyboard.press("0")
    expect(root).to_have_attribute("data-window-width", "80")
    x, y = client_point(root, 128, 128)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 30, steps=4)
    page.mouse.up()
    expect(root).not_to_have_attribute("data-window-width", "80")
    assert float(root.get_attribute("data-window-width")) > 80
    page.keyboard.press("4")  # lung
    expect(root).to_have_attribute("data-window-center", "-600")
    expect(root).to_have_attribute("data-window-width", "1500")
    root.get_by_label("Window preset").select_option("8")  # bone, from the menu
    expect(root).to_have_attribute("data-window-center", "480")


def check_value_under_cursor(root) -> None:
    page = root.page
    page.mouse.move(*client_point(root, 4.5, 4.5))
    expect(root).to_have_attribute("data-probe", str(AIR_HU))
    expect(root.locator(".rr-probe")).to_have_text(f"(4, 4) HU {AIR_HU}")
    # bone ring: 50 mm right of centre = 100 px
    page.mouse.move(*client_point(root, 128 + 100, 128))
    root.page.wait_for_function(f"(el) => Math.abs(Number(el.dataset.probe) - {BONE_HU}) < 50", arg=root.element_handle())


def check_length(root) -> None:
    page = root.page
    root.focus()
    page.keyboard.press("m")
    expect(root.get_by_label("Length")).to_have_attribute("aria-pressed", "true")
    x0, y0 = client_point(root, 28, 128)
    x1, y1 = client_point(root, 228, 128)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    # 200 px at 0.5 mm; screen rounding moves the ends by well under a pixel
    expect(root.locator(".rr-readout")).to_have_text("Length: 100.0 mm")
    page.keyboard.press("w")


def check_cine(root) -> None:
    page = root.page
    root.get_by_label("Frames per second").fill("30")
    root.get_by_label("Play cine").click()
    expect(root).to_have_attribute("data-playing", "true")
    first = root.get_attribute("data-frame")
    page.wait_for_function("([el, f]) => el.dataset.frame !== f", arg=[root.element_handle(), first])
    second = root.get_attribute("data-frame")
    page.wait_for_function("([el, f]) => el.dataset.frame !== f", arg=[root.element_handle(), second])
    root.get_by_label("Pause cine").click()
    expect(root).to_have_attribute("data-playing", "false")


def check_ellipse_roi(root) -> None:
    """An ellipse drawn in the air outside the body reads exactly -1000 HU with no spread."""
    page = root.page
    root.focus()
    page.keyboard.press("e")
    page.mouse.move(*client_point(root, 2, 2))
    page.mouse.down()
    page.mouse.move(*client_point(root, 22, 22), steps=4)
    page.mouse.up()
    readout = root.locator(".rr-readout")
    expect(readout).to_contain_text(f"mean {AIR_HU:.1f} HU SD 0.0 min {AIR_HU} max {AIR_HU}")
    page.keyboard.press("w")


def check_reformats(root) -> None:
    """Coronal and sagittal reformats of the regular phantom: right size, right mm, right HU."""
    page = root.page
    expect(root).to_have_attribute("data-lossless", "24", timeout=60_000)
    root.focus()
    page.keyboard.press("c")
    expect(root).to_have_attribute("data-plane", "coronal")
    expect(root).to_have_attribute("data-frames", "256")  # one coronal slice per image row
    expect(root).to_have_attribute("data-frame", "128")
    wait_painted(root)
    page.keyboard.press("m")
    # along the slice direction: 20 slices of 2 mm
    page.mouse.move(*client_point(root, 128, 2))
    page.mouse.down()
    page.mouse.move(*client_point(root, 128, 22), steps=4)
    page.mouse.up()
    expect(root.locator(".rr-readout")).to_have_text("Length: 40.0 mm")
    page.keyboard.press("w")
    page.mouse.move(*client_point(root, 3.5, 10.5))
    expect(root).to_have_attribute("data-probe", str(AIR_HU))
    page.keyboard.press("s")
    expect(root).to_have_attribute("data-plane", "sagittal")
    page.keyboard.press("ArrowDown")
    expect(root).to_have_attribute("data-frame", "129")
    page.keyboard.press("x")
    expect(root).to_have_attribute("data-plane", "axial")
    expect(root).to_have_attribute("data-frames", "24")


def check_keyboard_length(root, pixel_spacing: float) -> None:
    """Length tool, keyboard only: Enter shows a crosshair at the image centre, Shift+arrows move it
    10 px, Enter places each point; the readout (aria-live) reads 200 px of the given spacing."""
    page = root.page
    root.focus()
    page.keyboard.press("m")
    expect(root.get_by_label("Length")).to_have_attribute("aria-pressed", "true")
    expect(root.locator(".rr-readout")).to_have_attribute("aria-live", "polite")
    page.keyboard.press("Enter")
    expect(root).to_have_attribute("data-crosshair", "128,128")
    frame = root.get_attribute("data-frame")
    for _ in range(10):
        page.keyboard.press("Shift+ArrowLeft")
    expect(root).to_have_attribute("data-crosshair", "28,128")
    expect(root).to_have_attribute("data-frame", frame)  # the arrows moved the crosshair, not the frame
    page.keyboard.press("Enter")
    for _ in range(20):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    expect(root).to_have_attribute("data-crosshair", "228,128")
    page.keyboard.press("Enter")
    expect(root.locator(".rr-readout")).to_have_text(f"Length: {200 * pixel_spacing:.1f} mm")
    expect(root).not_to_have_attribute("data-crosshair", re.compile(".*"))
    page.keyboard.press("ArrowDown")  # measuring done: arrows scroll frames again
    expect(root).to_have_attribute("data-frame", str(int(frame) + 1))
    page.keyboard.press("w")


def check_declared_fields(root) -> None:
    """The host's model holds every field the Python traits declare (none undefined), whatever the host."""
    held = root.evaluate("(el) => Object.entries(el.rrView()).filter(([, v]) => v !== undefined).map(([k]) => k)")
    assert sorted(held) == sorted(view_schema()["properties"])


def check_invert(root) -> None:
    """``i`` inverts the grey levels (a pixel of air turns white) and says so; again, back."""
    page = root.page
    x, y = client_point(root, 4.5, 4.5)  # air: black in any soft-tissue window
    before = pixel(root, x, y)
    root.focus()
    page.keyboard.press("i")
    expect(root).to_have_attribute("data-invert", "true")
    expect(root.get_by_label("Invert", exact=True)).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("([el, x, y, v]) => el.rrPixel(x, y) !== v", arg=[root.element_handle(), x, y, before])
    assert before < 40 and pixel(root, x, y) > 215
    page.keyboard.press("i")
    expect(root).to_have_attribute("data-invert", "false")


def pixel(root, x: float, y: float) -> int:
    """Grey level painted at client point (x, y)."""
    return root.evaluate("(el, p) => el.rrPixel(p[0], p[1])", [x, y])


def check_single_pointer(root, pixel_spacing: float) -> None:
    """Every tool by clicks alone (WCAG 2.5.7): steppers for window, level, zoom and pan; two clicks for a length
    and an ellipse."""
    page = root.page
    root.get_by_label("Window/level", exact=True).click()
    width, center = float(root.get_attribute("data-window-width")), float(root.get_attribute("data-window-center"))
    root.get_by_label("Wider window").click()
    expect(root).to_have_attribute("data-window-width", _num(width * 1.25))
    root.get_by_label("Raise level").click()
    expect(root).to_have_attribute("data-window-center", _num(center + width * 1.25 / 10))
    root.get_by_label("Zoom", exact=True).click()
    zoom = float(root.get_attribute("data-zoom"))
    root.get_by_label("Zoom in").click()
    expect(root).to_have_attribute("data-zoom", _num(zoom * 1.25, 3))
    root.get_by_label("Zoom out").click()
    expect(root).to_have_attribute("data-zoom", _num(zoom, 3))
    root.get_by_label("Pan", exact=True).click()
    pan = root.get_attribute("data-pan")
    root.get_by_label("Pan right").click()
    expect(root).not_to_have_attribute("data-pan", pan)
    root.get_by_label("Pan left").click()
    expect(root).to_have_attribute("data-pan", pan)
    root.get_by_label("Length", exact=True).click()
    page.mouse.click(*client_point(root, 28, 128))
    expect(root).to_have_attribute("data-measuring", "second-point")
    page.mouse.click(*client_point(root, 228, 128))
    expect(root.locator(".rr-readout")).to_have_text(f"Length: {200 * pixel_spacing:.1f} mm")
    root.get_by_label("Ellipse ROI", exact=True).click()
    page.mouse.click(*client_point(root, 2, 2))
    page.mouse.click(*client_point(root, 22, 22))
    expect(root.locator(".rr-readout")).to_contain_text(f"mean {AIR_HU:.1f} HU SD 0.0")
    root.get_by_label("Window/level", exact=True).click()


def check_keyboard_window_and_pan(root) -> None:
    """Keys for what a drag does: Shift+arrows set level and width (window tool), arrows pan (pan tool)."""
    page = root.page
    root.focus()
    page.keyboard.press("w")
    width, center = float(root.get_attribute("data-window-width")), float(root.get_attribute("data-window-center"))
    frame = root.get_attribute("data-frame")
    page.keyboard.press("Shift+ArrowRight")
    expect(root).to_have_attribute("data-window-width", _num(width * 1.25))
    page.keyboard.press("Shift+ArrowDown")
    expect(root).to_have_attribute("data-window-center", _num(center - width * 1.25 / 10))
    page.keyboard.press("p")
    pan = root.get_attribute("data-pan")
    page.keyboard.press("ArrowDown")
    expect(root).not_to_have_attribute("data-pan", pan)
    page.keyboard.press("ArrowUp")
    expect(root).to_have_attribute("data-pan", pan)
    expect(root).to_have_attribute("data-frame", frame)  # with the pan tool the arrows pan, not scroll
    page.keyboard.press("w")


def check_targets_and_focus(root) -> None:
    """Every control is at least 24x24 CSS px (2.5.8) and, focused by Tab, is on screen and not covered (2.4.11)."""
    page = root.page
    controls = root.locator("button:visible, select:visible, input:visible")
    for k in range(controls.count()):
        box = controls.nth(k).bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24, controls.nth(k).get_attribute("aria-label")
    root.focus()
    seen = 0
    while True:
        page.keyboard.press("Tab")
        inside = page.evaluate("""(root) => {
          const el = document.activeElement;
          if (!root.contains(el)) return null;
          const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
          const top = document.elementFromPoint(x, y);
          return { label: el.getAttribute("aria-label"), visible: y >= 0 && y <= innerHeight && (top === el || el.contains(top)) };
        }""", root.element_handle())
        if inside is None:
            break
        assert inside["visible"], f"{inside['label']} is focused but hidden"
        seen += 1
    assert seen >= 14  # the toolbar, the steppers, the frame slider


def viewer_states(root):
    """Put the viewer through each state a user meets (yielding a name for each), and back to the start."""
    page = root.page
    root.focus()
    yield "window tool"
    for key, name in (("p", "pan tool"), ("z", "zoom tool"), ("e", "ellipse tool"), ("m", "length tool")):
        page.keyboard.press(key)
        yield name
    page.keyboard.press("Enter")
    yield "measuring by keyboard"
    page.keyboard.press("Escape")
    page.mouse.click(*client_point(root, 20, 20))
    yield "second point of a length"
    page.keyboard.press("Escape")
    page.keyboard.press("w")
    page.keyboard.press("i")
    yield "inverted"
    page.keyboard.press("i")
    page.keyboard.press("o")
    yield "overlay hidden"
    page.keyboard.press("o")
    if root.get_by_label("Plane").is_enabled():
        page.keyboard.press("c")
        yield "coronal reformat"
        page.keyboard.press("x")
    root.get_by_label("Play cine").click()
    yield "playing"
    root.get_by_label("Pause cine").click()


def _num(value: float, places: int = 2) -> str:
    """A number as the viewer's data-* attributes write it."""
    rounded = round(value, places)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)

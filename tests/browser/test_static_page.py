"""The viewer module on a plain page with a stub model: no Jupyter, our handlers only."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import viewer_checks as checks
from tests.browser.conftest import PHANTOM
from tests.conftest import ConsoleLog

pytestmark = pytest.mark.browser


def test_viewer_runs_on_a_plain_page_with_a_stub_model(page, static_site):
    page.goto(static_site["url"])
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-frame", "12")
    expect(root).to_have_attribute("data-transport", "http")
    checks.check_scrolling(root)
    checks.check_windowing(root)
    checks.check_value_under_cursor(root)
    checks.check_length(root)
    checks.check_ellipse_roi(root)
    checks.check_cine(root)
    saved = page.evaluate("window.rrModel.saved")
    assert [a["kind"] for a in saved[-1]["annotations"]] == ["length", "ellipse"]
    assert saved[-1]["window"] == [480, 2500]  # the window the user settled on (bone), not each step
    assert page.console.errors == []


def test_frames_sharing_a_digest_all_load_over_the_comm(page, static_site):
    """Where frames come from the kernel (plain Voila), two frames with the same pixels both arrive."""
    page.goto(static_site["url"] + "?series=twins&transport=comm")
    root = checks.viewer(page)
    expect(root).to_have_attribute("data-transport", "comm")
    expect(root).to_have_attribute("data-lossless", str(PHANTOM["slices"]), timeout=30_000)
    root.focus()
    page.keyboard.press("ArrowDown")  # onto one of the twins
    expect(root).to_have_attribute("data-tier", "lossless")
    assert page.console.errors == []


def test_keyboard_alone_reaches_every_control(page, static_site):
    page.goto(static_site["url"])
    root = checks.viewer(page)
    checks.wait_painted(root)
    for label in ("Window preset", "Window/level", "Pan", "Zoom", "Length", "Ellipse ROI", "Invert", "Fit", "Reset",
                  "Overlay text", "Annotations", "Play cine", "Frames per second", "Frame"):
        expect(root.get_by_label(label, exact=True)).to_have_count(1)
    checks.check_declared_fields(root)
    checks.check_invert(root)
    root.focus()
    page.keyboard.press("o")
    expect(root).to_have_attribute("data-overlay", "hidden")
    expect(root.locator(".rr-tr")).to_be_hidden()
    page.keyboard.press("+")
    expect(root).to_have_attribute("data-zoom", "1.25")
    page.keyboard.press("f")
    expect(root).to_have_attribute("data-zoom", "1")


def test_only_cached_digests_are_served(page, static_site):
    manifest = static_site["manifest"]
    ok = page.request.get(static_site["url"] + f"readingroom/frames/{manifest['lossless'][0]}.bin")
    assert ok.status == 200
    assert ok.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = page.request.get(static_site["url"] + "readingroom/frames/" + "0" * 32 + ".bin")
    assert missing.status == 404
    escape = page.request.get(static_site["url"] + "readingroom/frames/../series/x.json")
    assert escape.status == 404
    stale = page.request.get(static_site["url"] + "readingroom/static/000000000000/viewer.js")
    assert stale.status == 404
    # a bundle of previews: each as a 4-byte length and its bytes, in the order asked; an unknown one is empty
    first, second = manifest["preview"][:2]
    bundle = page.request.get(static_site["url"] + f"readingroom/frames/bundle/{first},{'0' * 32},{second}.jpg")
    assert bundle.status == 200 and bundle.headers["cache-control"] == "public, max-age=31536000, immutable"
    body = bundle.body()
    sizes, at = [], 0
    while at < len(body):
        n = int.from_bytes(body[at:at + 4], "big")
        sizes.append(n)
        assert n == 0 or body[at + 4:at + 6] == b"\xff\xd8"  # a JPEG starts there
        at += 4 + n
    assert sizes[1] == 0 and sizes[0] > 100 and sizes[2] > 100 and at == len(body)
    too_many = ",".join([first] * 17)
    assert page.request.get(static_site["url"] + f"readingroom/frames/bundle/{too_many}.jpg").status == 404


def test_annotations_follow_their_frame_and_group(page, static_site):
    page.goto(static_site["url"])
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-annotations", "0")
    page.evaluate("""window.rrModel.set("annotations", [
        {kind: "arrow", frame: 12, points: [[40, 40], [100, 120]], text: "lesion", group: "finding"},
        {kind: "text", frame: null, points: [[10, 240]], text: "teaching note", group: ""},
        {kind: "ellipse", frame: 3, points: [[50, 50], [90, 90]], text: "", group: "finding"}])""")
    expect(root).to_have_attribute("data-annotations", "2")  # arrow on this frame + text on every frame
    page.evaluate("window.rrModel.set('hidden_groups', ['finding'])")
    expect(root).to_have_attribute("data-annotations", "1")
    page.evaluate("window.rrModel.set('hidden_groups', [])")
    expect(root).to_have_attribute("data-annotations", "2")
    root.focus()
    page.keyboard.press("a")  # hide all
    expect(root).to_have_attribute("data-annotations", "0")


@pytest.mark.parametrize("series", ["palette", "rgb"])
def test_colour_ultrasound_is_painted_in_colour(page, static_site, series):
    page.goto(static_site["url"] + f"?series={series}")
    root = checks.viewer(page)
    checks.wait_painted(root)
    coloured = page.evaluate("""(root) => {
      const c = root.querySelector("canvas");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - d[i + 1]) > 30 || Math.abs(d[i + 1] - d[i + 2]) > 30) n++;
      return n;
    }""", root.element_handle())
    assert coloured > 100
    assert page.console.errors == []


def test_multiframe_clip_plays_from_its_first_frame(page, static_site):
    page.goto(static_site["url"] + "?series=mr-clip")
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root).to_have_attribute("data-frame", "0")
    expect(root).to_have_attribute("data-frames", "10")
    checks.check_cine(root)


def test_regular_volume_reformats_to_coronal_and_sagittal(page, static_site):
    page.goto(static_site["url"])
    root = checks.viewer(page)
    checks.wait_painted(root)
    checks.check_reformats(root)
    assert page.console.errors == []


def test_reformats_are_offered_only_for_regular_greyscale_volumes(page, static_site):
    page.goto(static_site["url"] + "?series=rgb")
    root = checks.viewer(page)
    checks.wait_painted(root)
    expect(root.get_by_label("Plane")).to_be_disabled()
    root.focus()
    page.keyboard.press("c")
    expect(root).to_have_attribute("data-plane", "axial")


def test_length_by_keyboard_alone(page, static_site):
    page.goto(static_site["url"])
    root = checks.viewer(page)
    checks.wait_painted(root)
    checks.check_keyboard_length(root, PHANTOM["pixel_spacing"][1])
    saved = page.evaluate("window.rrModel.saved")
    assert saved[-1]["annotations"] == [
        {"kind": "length", "frame": 12, "points": [[28, 128], [228, 128]], "group": "measurements"}]
    assert page.console.errors == []


def _touch(cdp, kind: str, points) -> None:
    cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": i, "radiusX": 1, "radiusY": 1, "force": 1} for i, (x, y) in enumerate(points)]})


def test_touch_pinch_zooms_around_its_centre_and_a_swipe_scrolls(browser, static_site):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, has_touch=True)
    try:
        page = context.new_page()
        console = ConsoleLog(page)
        page.goto(static_site["url"])
        root = checks.viewer(page)
        checks.wait_painted(root)
        expect(root).to_have_attribute("data-zoom", "1")
        cdp = context.new_cdp_session(page)
        # pinch out by 2x around image point (80, 100), off the image centre
        cx, cy = checks.client_point(root, 80, 100)
        _touch(cdp, "touchStart", [(cx - 40, cy), (cx + 40, cy)])
        for d in (50, 60, 70, 80):
            _touch(cdp, "touchMove", [(cx - d, cy), (cx + d, cy)])
        _touch(cdp, "touchEnd", [])
        expect(root).to_have_attribute("data-zoom", "2")
        expect(root).to_have_attribute("data-frame", "12")  # a pinch is not a swipe
        x, y = checks.client_point(root, 80, 100)
        assert abs(x - cx) < 0.5 and abs(y - cy) < 0.5  # the point under the fingers stayed there
        # one finger up the screen: frames scroll (12 px a frame)
        _touch(cdp, "touchStart", [(cx, cy)])
        for dy in (12, 24, 36):
            _touch(cdp, "touchMove", [(cx, cy - dy)])
        _touch(cdp, "touchEnd", [])
        expect(root).to_have_attribute("data-frame", "15")
        expect(root).to_have_attribute("data-zoom", "2")
        page.wait_for_function("window.rrState.zoom === 2")  # the view is saved for the kernel
        assert console.errors == []
    finally:
        context.close()


def test_every_drag_has_clicks_and_keys_instead(page, static_site):
    """WCAG 2.2: single-pointer (2.5.7) and keyboard alternatives to every drag, 24 px targets (2.5.8), focus
    never hidden (2.4.11)."""
    page.goto(static_site["url"])
    root = checks.viewer(page)
    checks.wait_painted(root)
    checks.check_single_pointer(root, PHANTOM["pixel_spacing"][0])
    checks.check_keyboard_window_and_pan(root)
    checks.check_targets_and_focus(root)
    assert page.console.errors == []


def test_on_a_slow_link_the_whole_stack_is_viewable_before_its_lossless_tier(page, static_site):
    """At 384 kbit/s: every frame's preview before the lossless tier is complete, and the slice the user stops
    on gets its lossless frame ahead of the rest."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 200, "downloadThroughput": 384_000 / 8,
                                                  "uploadThroughput": 384_000 / 8})
    page.goto(static_site["url"])
    root = checks.viewer(page)
    everything = "(el) => el.dataset.frames && el.dataset.loaded === el.dataset.frames"
    page.wait_for_function(everything, arg=root.element_handle(), timeout=120_000)
    assert int(root.get_attribute("data-lossless")) < PHANTOM["slices"]
    assert root.locator(".rr-loaded").evaluate("(bar) => bar.style.width") == "100%"
    root.focus()
    page.keyboard.press("End")  # the far end of the stack: last in an outward order from the middle
    expect(root).to_have_attribute("data-tier", "lossless", timeout=60_000)
    assert int(root.get_attribute("data-lossless")) < PHANTOM["slices"]
    expect(root).to_have_attribute("data-lossless", str(PHANTOM["slices"]), timeout=120_000)
    assert page.console.errors == []

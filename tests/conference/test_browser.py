"""A live conference in Debian's Chromium: a presenter and three participants on a real `readingroom serve`.

The tests share one conference and run in order, as a session would: follow, detach and
rejoin, a poll of each kind, the Q&A queue, a dropped link, a forged message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import viewer_checks as checks
from tests.conference.browser_fixtures import PARTICIPANTS, VIEWER

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def viewer(page):
    return page.locator(VIEWER)


def press(page, *keys: str) -> None:
    """Keys on the presenter's (or a participant's) viewer, as a keyboard user drives it."""
    viewer(page).focus()
    for key in keys:
        page.keyboard.press(key)


def expect_same_view(presenter, pages) -> None:
    """Every page shows the presenter's frame and window."""
    root = viewer(presenter)
    for name in ("data-frame", "data-window-center", "data-window-width"):
        value = root.get_attribute(name)
        for page in pages:
            expect(viewer(page)).to_have_attribute(name, value)


def save_screenshot(page, name: str) -> None:
    """Small PNGs for the README (64 colours): docs/screenshots/<name>.png."""
    import io

    from PIL import Image

    picture = Image.open(io.BytesIO(page.screenshot(type="png"))).convert("RGB").quantize(colors=64)
    picture.save(SCREENSHOTS / f"{name}.png", optimize=True)


def test_everyone_follows_the_presenters_frame_and_window(room):
    start = int(viewer(room.presenter).get_attribute("data-frame"))
    press(room.presenter, "ArrowDown", "ArrowDown", "ArrowDown")
    expect(viewer(room.presenter)).to_have_attribute("data-frame", str(start + 3))
    expect_same_view(room.presenter, room.participants)
    width = viewer(room.presenter).get_attribute("data-window-width")
    presets = viewer(room.presenter).get_by_label("Window preset")
    presets.select_option(index=presets.locator("option").count() - 1)  # e.g. bone: far from the default
    expect(viewer(room.presenter)).not_to_have_attribute("data-window-width", width)
    expect_same_view(room.presenter, room.participants)
    for page in [room.presenter, *room.participants]:
        checks.check_declared_fields(viewer(page))
    checks.check_invert(viewer(room.presenter))  # followers invert with the presenter, and back
    press(room.presenter, "i")
    for page in room.participants:
        expect(viewer(page)).to_have_attribute("data-invert", "true")
        assert page.evaluate("rrConference.model.get('invert')") is True
    press(room.presenter, "i")
    for page in room.participants:
        expect(viewer(page)).to_have_attribute("data-invert", "false")
    press(room.presenter, "+")
    for page in room.participants:
        expect(viewer(page)).to_have_attribute("data-zoom", "1.25")
    press(room.presenter, "p")  # pan: followers move with the presenter's hand, before the drag ends
    centre = viewer(room.presenter).evaluate("(root) => root.imageToClient(64, 64)")
    room.presenter.mouse.move(*centre)
    room.presenter.mouse.down()
    room.presenter.mouse.move(centre[0] + 40, centre[1] + 25, steps=4)
    panned = viewer(room.presenter).get_attribute("data-pan")
    assert panned != "0,0"
    for page in room.participants:
        expect(viewer(page)).to_have_attribute("data-pan", panned)
    room.presenter.mouse.up()
    press(room.presenter, "m")  # the presenter measures: everyone sees the line
    start, end = (viewer(room.presenter).evaluate(f"(root) => root.imageToClient({x}, 64)") for x in (30, 90))
    room.presenter.mouse.move(*start)
    room.presenter.mouse.down()
    room.presenter.mouse.move(*end, steps=4)
    room.presenter.mouse.up()
    press(room.presenter, "w")
    for page in room.participants:
        expect(viewer(page)).to_have_attribute("data-annotations", "1")
    press(room.presenter, "c")  # a coronal reformat, two slices on: everyone sees it
    expect(viewer(room.presenter)).to_have_attribute("data-plane", "coronal")
    coronal_slice = str(int(viewer(room.presenter).get_attribute("data-frame")) + 2)
    press(room.presenter, "ArrowDown", "ArrowDown")
    expect(viewer(room.presenter)).to_have_attribute("data-frame", coronal_slice)
    for page in room.participants:
        expect(viewer(page)).to_have_attribute("data-plane", "coronal")
        expect(viewer(page)).to_have_attribute("data-frame", coronal_slice)
    press(room.presenter, "x")
    for page in room.participants:
        expect(viewer(page)).to_have_attribute("data-plane", "axial")
    expect_same_view(room.presenter, room.participants)
    for page in room.participants:
        latencies = page.evaluate("rrConference.latencies")  # presenter-to-participant, for the benchmark
        assert latencies and all(0 <= ms < 60_000 for ms in latencies)
        expect(page.get_by_text("Following the presenter.")).to_be_visible()
        expect(page.locator("#stages [data-stage]")).to_have_count(1)  # the unknown only
    assert room.errors() == []


def test_a_participant_explores_alone_and_snaps_back_in_one_click(room):
    explorer, *others = room.participants
    explorer.get_by_role("button", name="Explore on my own").click()
    press(explorer, "Home")
    expect(viewer(explorer)).to_have_attribute("data-frame", "0")
    frame = int(viewer(room.presenter).get_attribute("data-frame"))
    press(room.presenter, "ArrowDown", "ArrowDown")
    expect(viewer(room.presenter)).to_have_attribute("data-frame", str(frame + 2))
    expect_same_view(room.presenter, others)
    expect(viewer(explorer)).to_have_attribute("data-frame", "0")  # the presenter's moves leave the explorer be
    explorer.get_by_role("button", name="Follow presenter").click()
    expect_same_view(room.presenter, [explorer])
    assert explorer.evaluate("rrConference.following") is True
    assert room.errors() == []


def test_reveal_next_shows_the_next_stage_to_everyone(room):
    drawn_before = int(viewer(room.presenter).get_attribute("data-annotations"))
    room.presenter.get_by_role("button", name="Reveal next").click()
    for page in room.participants:
        expect(page.locator("#stages [data-stage]")).to_have_count(2)
    for page in [room.presenter, *room.participants]:  # the author's arrows on the collection, from the findings cell
        expect(viewer(page)).to_have_attribute("data-annotations", str(drawn_before + 4))
    expect(room.presenter.locator("#stage-label")).to_have_text("Stage 2 of 3 shown")
    assert room.errors() == []


def test_a_choice_poll_round_trip_with_live_counts(room):
    p = room.presenter
    press(p, "0")  # back to the image's own window for the screenshots
    p.get_by_label("Question", exact=True).fill("Where is the collection?")
    p.get_by_label("Options").fill("Subdural\nEpidural\nSubarachnoid")
    p.get_by_role("button", name="Open poll").click()
    for page, choice in zip(room.participants, ("Subdural", "Subdural", "Subarachnoid")):
        expect(page.locator("#poll-prompt")).to_have_text("Where is the collection?")
        page.get_by_role("button", name=choice).click()
        expect(page.locator("#poll-note")).to_contain_text(f"Answer saved: {choice}")  # kept, not only sent
    bars = p.locator("#poll-results li")
    expect(bars.nth(0)).to_have_attribute("data-count", "2")
    expect(bars.nth(1)).to_have_attribute("data-count", "0")
    expect(bars.nth(2)).to_have_attribute("data-count", "1")
    expect(p.locator("#records")).to_have_text("Records: all saved")  # the answers reached the records store
    save_screenshot(p, "conference")
    save_screenshot(room.participants[2], "follower")
    p.get_by_role("button", name="Close poll").click()
    for page in room.participants:
        expect(page.locator("#poll-results li").nth(0)).to_have_attribute("data-count", "2")  # final results for all
    assert room.errors() == []


def test_the_roster_shows_who_follows_and_who_explores(room):
    roster = room.presenter.locator("#roster tr")
    expect(roster).to_have_count(3)
    for name in PARTICIPANTS:
        expect(roster.filter(has_text=name)).to_contain_text("following")
    explorer = room.participants[0]
    explorer.get_by_role("button", name="Explore on my own").click()
    expect(roster.filter(has_text=PARTICIPANTS[0])).to_contain_text("detached")
    expect(room.presenter.locator("#roster-count")).to_have_text("3 connected, 1 exploring on their own")
    link_quality = re.compile(r"\d+ ms")  # the server pings every 5 s
    expect(roster.filter(has_text=PARTICIPANTS[1])).to_contain_text(link_quality, timeout=12_000)
    explorer.get_by_role("button", name="Follow presenter").click()
    expect(roster.filter(has_text=PARTICIPANTS[0])).to_contain_text("following")
    assert room.errors() == []


def test_a_locate_poll_click_lands_on_the_presenters_heat_map(room):
    p = room.presenter
    p.get_by_label("Locate on the image").check()
    p.get_by_label("Question", exact=True).fill("Click the lesion")
    p.get_by_role("button", name="Open poll").click()
    clicker = room.participants[1]
    expect(clicker.locator("#poll-prompt")).to_have_text("Click the lesion")
    frame_before = viewer(clicker).get_attribute("data-frame")
    x, y = viewer(clicker).evaluate("(root) => root.imageToClient(64, 90)")
    clicker.mouse.click(x, y)
    expect(clicker.locator("#poll-note")).to_contain_text("Answer saved: the place (64, 90)")
    expect(viewer(clicker)).to_have_attribute("data-frame", frame_before)  # a tap answers, it does not scroll
    heat = p.locator(".rr-heat")
    expect(heat).to_have_attribute("data-points", "1")
    keyboard_user = room.participants[2]
    keyboard_user.get_by_role("button", name="Place a marker by keyboard").click()
    keyboard_user.keyboard.press("ArrowRight")
    keyboard_user.keyboard.press("Shift+ArrowDown")
    keyboard_user.keyboard.press("Enter")
    expect(keyboard_user.locator("#poll-note")).to_contain_text("Answer saved: the place (65, 74)")
    expect(heat).to_have_attribute("data-points", "2")
    red = p.evaluate("""() => {
      const root = document.querySelector("[data-rr-viewer]"), heat = root.querySelector(".rr-heat");
      const [cx, cy] = root.imageToClient(64, 90), box = heat.getBoundingClientRect(), k = heat.width / box.width;
      const x = Math.round((cx - box.left) * k), y = Math.round((cy - box.top) * k);
      return heat.getContext("2d").getImageData(x, y, 1, 1).data[0];
    }""")
    assert red > 200  # drawn where the participant clicked
    p.get_by_role("button", name="Close poll").click()
    expect(p.locator("#poll-form")).to_be_visible()
    assert room.errors() == []


def test_a_question_and_its_upvote_reach_the_presenter(room):
    asker, voter, _ = room.participants
    asker.get_by_label("Ask the presenter").fill("Is the rim enhancement significant?")
    asker.get_by_role("button", name="Ask", exact=True).click()
    question = room.presenter.locator("#questions li", has_text="Is the rim enhancement significant?")
    expect(question).to_contain_text("0 votes")
    expect(question).to_contain_text(PARTICIPANTS[0])
    voter.get_by_role("button", name="Upvote: Is the rim enhancement significant?").click()
    expect(question).to_contain_text("1 vote")
    room.presenter.get_by_role("button", name="Mark answered: Is the rim enhancement significant?").click()
    expect(asker.locator("#questions li", has_text="rim enhancement")).to_contain_text("answered")
    assert room.errors() == []


def test_a_dropped_link_reconnects_and_catches_up_by_itself(room):
    dropped = room.participants[2]
    context = room.contexts[3]
    context.set_offline(True)
    dropped.evaluate("rrConference.socket.close()")
    # Offline, the close handshake may never finish; then the link notices the silence (3 pings).
    expect(dropped.locator("body")).to_have_attribute("data-link", re.compile("reconnecting|connecting"),
                                                      timeout=30_000)
    press(room.presenter, "End")
    expect(viewer(room.presenter)).to_have_attribute("data-frame", "23")
    expect_same_view(room.presenter, room.participants[:2])
    expect(viewer(dropped)).not_to_have_attribute("data-frame", viewer(room.presenter).get_attribute("data-frame"))
    context.set_offline(False)
    expect_same_view(room.presenter, [dropped])  # the welcome's snapshot, no replay
    expect(dropped.locator("body")).to_have_attribute("data-link", "open")
    assert dropped.evaluate("rrConference.reconnects") >= 1
    assert room.errors() == []


def test_a_link_that_goes_silent_is_dropped_and_reconnected(room):
    """No close event ever comes on a half-open connection: hearing nothing for three pings is enough."""
    silent = room.participants[1]
    before = silent.evaluate("rrConference.reconnects")
    silent.evaluate("rrConference.socket.send = () => {}")  # its pings go nowhere, so no pong comes back
    silent.wait_for_function(f"rrConference.reconnects === {before + 1}", timeout=30_000)
    expect(silent.locator("body")).to_have_attribute("data-link", "open")
    press(room.presenter, "Home")
    expect_same_view(room.presenter, [silent])
    assert room.errors() == []


def test_a_forged_presenter_message_changes_nobodys_view(room):
    forger = room.participants[0]
    before = viewer(room.presenter).get_attribute("data-frame")
    forged = room.presenter.evaluate("rrPresenter.snapshot()") | {"frame": 0, "stage": 2}
    forger.evaluate("(view) => rrConference.socket.send(JSON.stringify({type: 'view', view, t: Date.now()}))", forged)
    forger.get_by_label("Ask the presenter").fill("After the forged view")
    forger.get_by_role("button", name="Ask", exact=True).click()
    # sent after the forged view on the same socket: once it is in, the forged one has been handled
    expect(room.presenter.locator("#questions")).to_contain_text("After the forged view")
    for page in [room.presenter, *room.participants]:
        expect(viewer(page)).to_have_attribute("data-frame", before)
        expect(page.locator("#stages [data-stage]")).to_have_count(2)
    assert room.errors() == []


def test_wrong_presenter_token_and_unrevealed_stages_are_refused(room, conference_server):
    page = room.participants[0]
    console = room.presenter_url.split("?")[0]
    wrong = page.request.get(f"{console}?token=not-the-token")
    assert wrong.status == 403
    assert "presenter link is not valid" in wrong.text()
    ticket = page.url.split("ticket=")[1]
    stages = console.replace("/present", "/stages")
    assert page.request.get(f"{stages}/1?ticket={ticket}").status == 200  # revealed
    assert page.request.get(f"{stages}/2?ticket={ticket}").status == 403  # not yet
    assert page.request.get(f"{stages}/0?ticket=1.forged").status == 403
    revealed = json.loads(page.request.get(f"{stages}/1?ticket={ticket}").text())
    assert revealed["count"] == 3 and "next" not in revealed  # no key to the public case page's later stages
    assert [a["text"] for a in revealed["drawn"]["annotations"] if a["kind"] == "text"] == [
        "subdural collection", "septation"]  # drawn by the findings cell, for the presenter to share


def test_a_wrong_join_code_or_ticket_is_one_clear_line(browser, room, conference_server):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{conference_server.url}join")
        page.get_by_label("Join code").fill("ZZZZ22")
        page.get_by_label("Your name").fill("Dr Typo")
        page.get_by_role("button", name="Join").click()
        expect(page.get_by_role("alert")).to_have_text("No live conference has this code; check it with the presenter.")
        follow = room.participants[0].url.split("?")[0]
        refused = page.goto(f"{follow}?ticket=1.0123")
        assert refused.status == 403
        expect(page.locator("p")).to_have_text(
            "This participant link is not valid for this conference: join again with the code.")
    finally:
        context.close()


def test_presenter_and_participant_pages_pass_axe_in_each_viewer_state(room):
    from tests.browser.accessibility import violations

    participant = room.participants[0]
    found = [v for state in checks.viewer_states(viewer(room.presenter))
             for page in (room.presenter, participant) for v in violations(page, state)]
    assert found == [], "\n".join(found)


def test_ending_the_conference_tells_everyone(room):
    room.presenter.once("dialog", lambda dialog: dialog.accept())
    room.presenter.get_by_role("button", name="End conference").click()
    for page in room.participants:
        expect(page.locator("#status")).to_have_text("The conference has ended.")
    expect(room.presenter.locator("#status")).to_have_text("Disconnected: the conference has ended.")
    assert room.errors() == []

"""Voice in a live conference, end to end: `conference start` starts its own Janus, Chromium speaks and listens.

The presenter and two participants are pages of a Chromium with a fake microphone (a loop
of speech-like sound) allowed to use loopback addresses for WebRTC; everything stays on
127.0.0.1. What a participant hears is read from the page itself: ``data-rr-audio`` and the
inbound audio bytes WebRTC's statistics report (``data-rr-audio-bytes``). The tests run in
order on one conference; the last one kills Janus.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest
from playwright.sync_api import expect

from readingroom.server.conference import recordings
from tests.accessibility import assert_passes_axe
from tests.conference.browser_fixtures import VIEWER, join, start_conference
from tests.janus_fixtures import janus_child, loopback_media, voice_browser  # noqa: F401  (fixtures)
from tests.servers import wait_for
from tests.system_packages import require

pytestmark = pytest.mark.timeout(300)

WINDOW_MS = 4000  # inbound audio is measured over this long
SPEECH_KBPS = (6, 48)  # what a listener receives while someone speaks (the bounds)
SILENCE_KBPS = 4  # Janus keeps sending the mix while nobody is heard: Opus frames of silence, a few bytes each


@pytest.fixture(scope="module")
def voice_server(tmp_path_factory, loopback_media):  # noqa: F811
    require("janus")
    server = start_conference(tmp_path_factory.mktemp("conference-voice"), f"--voice-interface={loopback_media}")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def voice_room(voice_browser, voice_server):  # noqa: F811
    """The presenter's console and two participants' pages, none listening yet."""
    contexts = [voice_browser.new_context(viewport={"width": 1280, "height": 900})]
    presenter = contexts[0].new_page()
    presenter.goto(voice_server.presenter_url)
    expect(presenter.locator(VIEWER)).to_have_attribute("data-tier", "lossless", timeout=30_000)
    code = presenter.locator(".rr-code").inner_text()
    participants = []
    for name in ("Dr Ana Quarry", "Dr Ben Ollis"):
        contexts.append(voice_browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True))  # a phone
        page = contexts[-1].new_page()
        join(page, voice_server.url, code, name)
        participants.append(page)
    yield presenter, participants
    for context in contexts:
        context.close()


def audio(page):
    return page.locator("[data-rr-audio]").first


def inbound_kbps(page) -> float:
    """Inbound audio over WINDOW_MS as the page reports it, in kbit/s (payload bytes, as WebRTC counts them)."""
    return page.evaluate("""async (ms) => {
        const node = document.querySelector("[data-rr-audio]");
        const before = Number(node.dataset.rrAudioBytes), start = performance.now();
        await new Promise((done) => setTimeout(done, ms));
        return (Number(node.dataset.rrAudioBytes) - before) * 8 / (performance.now() - start);
    }""", WINDOW_MS)


def listen(page) -> None:
    page.get_by_role("button", name="Listen").click()
    expect(audio(page)).to_have_attribute("data-rr-audio", "receiving", timeout=20_000)


def speaking(page) -> None:
    """The presenter opens the microphone and it goes out."""
    page.get_by_role("button", name=re.compile("microphone on")).click()
    expect(page.locator("[data-rr-mic]")).to_have_attribute("data-rr-mic", "live", timeout=20_000)


def test_the_presenters_voice_reaches_two_participants(voice_room):
    presenter, participants = voice_room
    for page in participants:
        expect(page.get_by_text("This session is recorded.")).to_be_visible()
        listen(page)
    speaking(presenter)
    for page in participants:
        before = int(audio(page).get_attribute("data-rr-audio-bytes"))
        rate = inbound_kbps(page)
        assert SPEECH_KBPS[0] <= rate <= SPEECH_KBPS[1], f"{rate:.1f} kbit/s"
        assert int(audio(page).get_attribute("data-rr-audio-bytes")) > before
        expect(page.get_by_text(re.compile(r"Audio link (good|fair|poor)"))).to_be_visible()
    rows = presenter.locator("#roster tr")
    expect(rows.filter(has_text="listening")).to_have_count(2)  # the roster shows who listens


def test_mute_all_silences_every_listener(voice_room):
    presenter, participants = voice_room
    presenter.get_by_role("button", name="Mute all").click()
    expect(presenter.locator("[data-rr-mic]")).to_have_attribute("data-rr-mic", "off")
    for page in participants:
        wait_for(lambda page=page: inbound_kbps(page) < SILENCE_KBPS, "the mix to fall silent", timeout=30)


def test_a_raised_hand_given_the_floor_is_heard_by_another_participant(voice_room):
    presenter, (speaker, listener) = voice_room
    speaker.get_by_role("button", name="Raise hand").click()
    let_speak = presenter.get_by_role("button", name="Let Dr Ana Quarry speak")
    expect(let_speak).to_be_visible()
    assert inbound_kbps(listener) < SILENCE_KBPS  # a raised hand is not heard yet
    let_speak.click()
    speaker.get_by_role("button", name="Talk").click()  # push to talk: the microphone opens
    wait_for(lambda: inbound_kbps(listener) >= SPEECH_KBPS[0], "the participant's voice to reach the other", timeout=30)
    presenter.get_by_role("button", name="Take back the floor from Dr Ana Quarry").click()
    expect(speaker.get_by_role("button", name=re.compile("Talk"))).to_be_hidden()
    wait_for(lambda: inbound_kbps(listener) < SILENCE_KBPS, "the floor to be taken back", timeout=30)


def test_janus_records_the_mix_into_the_sessions_folder(voice_room, voice_server):
    root = voice_server.workdir / "jupyter-conference" / "data" / "readingroom" / "recordings"
    folder = next(root.glob("session-*"))
    started = json.loads((folder / recordings.VOICE_STARTED).read_text())["started_at"]
    assert started > 0
    wav = folder / recordings.VOICE
    size = wav.stat().st_size
    wait_for(lambda: wav.stat().st_size > size + 16_000, "the recording to grow", timeout=30)  # 16 kHz mono: 32 KB/s
    # in step with the session: its length is the time since voice.json's moment (the mixer writes 20 ms frames,
    # silence included, from the room's start, not from the first listener's)
    seconds_written, seconds_since = (wav.stat().st_size - 44) / 32_000, time.time() - started
    assert abs(seconds_written - seconds_since) < 2, (seconds_written, seconds_since)


def test_voice_controls_pass_axe(voice_room):
    presenter, participants = voice_room
    assert_passes_axe(presenter)
    assert_passes_axe(participants[0])


def test_the_conference_goes_on_when_janus_dies(voice_room, voice_server):
    presenter, participants = voice_room
    os.kill(janus_child(voice_server.proc.pid), signal.SIGKILL)
    for page in participants:
        expect(page.locator("#voice-note")).to_contain_text("Voice is unavailable right now", timeout=30_000)
        expect(audio(page)).to_have_attribute("data-rr-audio", "off")
    expect(presenter.locator("#voice-note")).to_contain_text("Voice is unavailable right now")
    viewer = presenter.locator(VIEWER)
    frame = int(viewer.get_attribute("data-frame"))
    viewer.focus()
    presenter.keyboard.press("ArrowDown")
    for page in participants:  # following still works
        expect(page.locator(VIEWER)).to_have_attribute("data-frame", str(frame + 1))

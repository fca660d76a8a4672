"""The replay of a recorded session: a real `conference start` on a module, driven by a presenter's websocket,
its timeline written by the server, and its voice recorded by the real Janus the conference starts.

The presenter's window change is sent once ten seconds of the recording have passed (Janus records the room
from its creation, voice.json says when), so it lands at second 10 of the recording, and the session goes on
for a few seconds more.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.request
import wave
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect
from typer.testing import CliRunner

from readingroom.cli import app
from readingroom.records import RecordsStore
from readingroom.server.case_pages import RUN_TIMEOUT
from readingroom.server.conference.recordings import (
    TIMELINE,
    VOICE,
    VOICE_STARTED,
    session_folder,
)
from readingroom.server.conference.timeline import read_timeline
from tests.accessibility import assert_passes_axe
from tests.conference.conftest import (
    CASE,
    CASES,
    MODULE,
    Live,
    request,
    start_conference,
    wait_for,
)
from tests.system_packages import require

CHANGE_AT = 10.0  # the presenter's window change, in seconds from the start of the voice
AFTER_CHANGE = 3.0  # seconds the session goes on after it, so the recording holds it
CHANGED_WINDOW = [600, 2000]
QUESTION = "Would you operate on this one?"


@dataclass
class Recorded:
    live: Live
    recordings: Path
    folder: Path
    learner: int
    agenda: list[dict]
    follow_url: str  # a participant's page, after the end
    change_at: float  # the window change, in seconds of the recording (10, and what the server's clock added)
    voice_seconds: float  # how long Janus's recording is

    def replay_path(self) -> str:
        return f"/readingroom/conference/{self.live.session}/replay"

    def cookie(self) -> str:
        return self.live.signed_in_cookie(self.learner)


def wav_seconds(path: Path) -> float:
    """The length of a WAV as its header says (Janus rewrites the header as it goes and when the room closes)."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    require("janus")
    workdir = tmp_path_factory.mktemp("replay")
    recordings, records_url = workdir / "recordings", f"sqlite:///{workdir / 'records.sqlite'}"
    live = start_conference(workdir, records_url, extra=(f"--recordings={recordings}",),
                            command=("start", MODULE, f"--cases={workdir / 'cases'}",
                                     f"--curriculum={workdir / 'curriculum'}"))
    folder = session_folder(recordings, live.session)
    try:
        presenter = live.presenter()
        agenda = presenter.welcome["agenda"]
        first, second = agenda[0]["case"], agenda[1]["case"]
        participant = live.participant("Dr Ida Listener")

        def then(message: dict, kind: str) -> float:
            """Send, and wait until the server wrote it (so the session's moments are apart as a real one's)."""
            count = len([e for e in events() if e["kind"] == kind])
            presenter.send(message)
            return wait_for(lambda: ([e["t"] for e in events() if e["kind"] == kind][count:] or [0])[0],
                            f"{kind} in the timeline")

        def events() -> list[dict]:
            return read_timeline(folder / TIMELINE) if (folder / TIMELINE).exists() else []

        def view(case: str, stage: int = 0, window=(40, 80)) -> dict:
            return {"type": "view", "view": {"case": case, "series": 0, "frame": 0, "stage": stage, "window": list(window)},
                    "t": None}

        then(view(first), "view")
        then(view(first, stage=1), "reveal")
        then({"type": "poll_open", "poll": {"id": "p1", "kind": "choice", "prompt": "Operate?",
                                            "options": ["Yes", "No"]}}, "poll_open")
        participant.next("poll")
        assert participant.answer("p1", 0, "replaykey01")["type"] == "saved"
        then({"type": "poll_close", "poll": "p1"}, "poll_closed")
        participant.send({"type": "ask", "text": QUESTION})
        question = presenter.next("questions")["questions"][0]["id"]
        then({"type": "answered", "question": question}, "answered")
        started_at = wait_for(lambda: (folder / VOICE_STARTED).exists()
                              and json.loads((folder / VOICE_STARTED).read_text())["started_at"], "Janus to record")
        wait_for(lambda: time.time() >= started_at + CHANGE_AT, "second 10 of the recording", timeout=CHANGE_AT + 5)
        changed = then(view(first, stage=1, window=CHANGED_WINDOW), "view")
        wait_for(lambda: time.time() >= changed + AFTER_CHANGE, "the session to go on", timeout=AFTER_CHANGE + 5)
        then(view(second), "case")
        then({"type": "end"}, "end")
        voice_seconds = wait_for(lambda: (s := wav_seconds(folder / VOICE)) >= changed + AFTER_CHANGE - started_at and s,
                                 "Janus to close the recording")
        for entry in agenda:  # a later stage comes from the case's one run, started with the server: wait for it
            urllib.request.urlopen(f"{live.server.url}cases/{entry['case']}/", timeout=RUN_TIMEOUT).close()
        with RecordsStore(records_url) as store:
            learner = store.add_participant("Dr Replay Learner", username="learner", password="replay-learner-pw")
        yield Recorded(live, recordings, folder, learner.id, agenda, participant.joined["follow_url"],
                       changed - started_at, voice_seconds)
    finally:
        live.server.stop()


# ---- who may replay, and when ----

def test_a_replay_asks_who_is_watching_first(recorded):
    status, _ = request(recorded.live.server.port, "GET", recorded.replay_path())
    assert status == 302  # to the sign-in page, and back
    status, body = request(recorded.live.server.port, "GET", f"{recorded.replay_path()}/recording.ogg")
    assert status == 403 and "Sign in to replay" in body


def test_a_session_not_recorded_or_unknown_says_so(recorded):
    headers = {"Cookie": recorded.cookie()}
    status, body = request(recorded.live.server.port, "GET", "/readingroom/conference/999999/replay", headers=headers)
    assert status == 404 and "No such conference session" in body


def test_the_voice_is_served_as_opus_by_ranges(recorded):
    headers = {"Cookie": recorded.cookie(), "Range": "bytes=1000-1999"}
    connection = http.client.HTTPConnection("127.0.0.1", recorded.live.server.port, timeout=60)
    try:
        connection.request("GET", f"{recorded.replay_path()}/recording.ogg", headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 206 and len(body) == 1000  # a rural link seeks without fetching the whole file
    assert response.getheader("Content-Type") == "audio/ogg"
    assert response.getheader("Cache-Control") == "private, max-age=3600"


# ---- the export ----

def test_export_writes_the_voice_as_opus_and_the_timeline_on_the_recordings_clock(recorded, tmp_path):
    import av

    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["conference", "export", str(recorded.live.session), "-o", str(out),
                                      "--recordings", str(recorded.recordings)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["recording.ogg", "timeline.json"]  # no temporary left behind
    with av.open(str(out / "recording.ogg")) as ogg:
        stream = ogg.streams.audio[0]
        assert (stream.codec_context.name, stream.channels) == ("opus", 1)
        seconds = float(stream.duration * stream.time_base)
    assert abs(seconds - recorded.voice_seconds) < 0.1
    assert (out / "recording.ogg").stat().st_size * 8 / seconds < 32_000  # speech bitrate, not WAV's 768 kbit/s
    document = json.loads((out / "timeline.json").read_text())
    assert document["session"] == recorded.live.session
    changed = next(e for e in document["events"] if e["kind"] == "view" and e["view"]["window"] == CHANGED_WINDOW)
    assert changed["t"] == pytest.approx(recorded.change_at, abs=0.002)
    assert [c["kind"] for c in document["chapters"]] == ["case", "reveal", "poll_open", "poll_closed", "case"]
    assert [c["title"] for c in document["chapters"]][-1] == "Case 2"


def test_export_of_a_session_without_recording_is_one_line_and_writes_nothing(recorded, tmp_path):
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["conference", "export", "424242", "-o", str(out),
                                      "--recordings", str(recorded.recordings)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [(
        f"error: session 424242: no recording in {recorded.recordings}; check the session id (readingroom records "
        "attendance lists them) or give the folder with --recordings")]
    assert not out.exists()


def test_export_of_a_broken_voice_is_one_line_and_leaves_nothing_half_written(tmp_path):
    folder = session_folder(tmp_path / "recordings", 5)
    folder.mkdir(parents=True)
    (folder / TIMELINE).write_text(json.dumps({"t": 100.0, "kind": "start", "session": 5}) + "\n")
    (folder / VOICE).write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")  # as Janus leaves it when killed mid-write
    (folder / VOICE_STARTED).write_text(json.dumps({"started_at": 100.0}))
    out = tmp_path / "export"
    result = CliRunner().invoke(app, ["conference", "export", "5", "-o", str(out), "--recordings",
                                      str(tmp_path / "recordings")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"error: {folder / VOICE}: the voice recording cannot be read")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", [["serve", str(CASES)], ["conference", "start", CASE, f"--cases={CASES}"]])
def test_a_recordings_folder_that_is_a_file_is_one_line_before_anything_starts(tmp_path, command):
    taken = tmp_path / "recordings"
    taken.write_text("not a folder")
    result = CliRunner().invoke(app, [*command, f"--recordings={taken}"])
    assert result.exit_code == 2
    assert result.output.strip() == (f"error: --recordings {taken}: not a folder; give the folder keeping the "
                                     "sessions' recordings")


# ---- the page, in Chromium ----

def open_replay(browser, recorded, **options):
    context = browser.new_context(**options)
    base = recorded.live.base
    name, value = recorded.cookie().split("=", 1)
    context.add_cookies([{"name": name, "value": value, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.audio_statuses = []  # the voice's responses, from the first
    page.on("response", lambda r: page.audio_statuses.append(r.status) if r.url.endswith("/replay/recording.ogg") else None)
    page.goto(base + recorded.replay_path())
    expect(page.locator("[data-rr-viewer]")).to_be_visible()
    return context, page, errors


def seek_by_keyboard(page, seconds: int) -> None:
    seek = page.get_by_label("Position in the recording")
    seek.focus()
    page.keyboard.press("Home")
    for _ in range(seconds):
        page.keyboard.press("ArrowRight")
    expect(seek).to_have_value(str(seconds))


def test_a_participant_finds_the_replay_where_the_conference_ended(browser, recorded):
    context = browser.new_context()
    try:
        name, value = recorded.cookie().split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": recorded.live.base}])
        page = context.new_page()
        follow_url = recorded.follow_url
        page.goto(follow_url if follow_url.startswith("http") else recorded.live.base + follow_url)
        expect(page.locator("#status")).to_have_text("The conference has ended.")
        link = page.get_by_role("link", name="Watch its replay")
        link.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Conference replay")).to_be_visible()
    finally:
        context.close()


def test_the_replay_plays_the_voice_with_the_views_in_step(browser, recorded):
    context, page, errors = open_replay(browser, recorded)
    try:
        seek_by_keyboard(page, 7)
        page.evaluate("""(width) => {
          const { model, clock } = window.rrReplay;
          model.on("change", (key) => {
            if (key === "window" && model.get("window")[1] === width && window.rrChangedAt === undefined) window.rrChangedAt = clock.now;
          });
        }""", CHANGED_WINDOW[1])
        page.get_by_role("button", name="Play recording").press("Enter")
        page.wait_for_function("window.rrChangedAt !== undefined", timeout=20_000)
        at = page.evaluate("window.rrChangedAt")
        assert abs(at - recorded.change_at) <= 0.5, f"the window change showed at {at:.2f} s of the replay, not {recorded.change_at:.2f}"
        assert page.evaluate("!document.getElementById('audio').paused")  # the voice, playing
        assert page.audio_statuses and page.evaluate("document.getElementById('audio').currentSrc").endswith("/recording.ogg")
        assert errors == []
    finally:
        context.close()


def test_chapters_seek_and_show_what_was_shown_then(browser, recorded):
    context, page, errors = open_replay(browser, recorded)
    try:
        chapters = page.locator("#chapters button")
        expect(chapters).to_have_count(5)
        results = chapters.filter(has_text="Poll results: Operate?")
        results.focus()
        page.keyboard.press("Enter")
        expect(results).to_have_attribute("aria-current", "true")
        expect(page.locator("#poll-results [data-count]")).to_have_count(2)
        expect(page.locator("#poll-results [data-count='1']")).to_contain_text("Yes")
        expect(page.locator("#stages [data-stage='1']")).to_be_attached()  # the reveal before it
        expect(page.locator("#answered")).not_to_contain_text(QUESTION)  # answered later in the session

        last = chapters.filter(has_text="Case 2")
        last.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#case-label")).to_have_text("Case 2 of 2")
        expect(page.locator("#answered")).to_contain_text(QUESTION)
        moment = float(page.evaluate("window.rrReplay.clock.now"))
        assert moment == pytest.approx(float(last.get_attribute("data-t")), abs=0.3)

        reveal = chapters.filter(has_text="stage 2 revealed")
        reveal.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#case-label")).to_have_text("Case 1 of 2")
        expect(page.locator("#poll-panel")).to_be_hidden()
        assert errors == []
    finally:
        context.close()


def test_the_replay_page_fits_a_phone_and_passes_axe(browser, recorded):
    context, page, errors = open_replay(browser, recorded, viewport={"width": 390, "height": 844})
    try:
        expect(page.locator("#chapters button")).to_have_count(5)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert_passes_axe(page)
        page.locator("#chapters button").first.press("Enter")
        assert_passes_axe(page)
        assert errors == []
    finally:
        context.close()


def seconds_on_task(recorded) -> float:
    with RecordsStore(recorded.live.records_url) as store:
        progress = store.module_progress(recorded.learner, MODULE)
    return progress.seconds_on_task if progress else 0.0


def test_time_on_a_replay_is_self_study_time_on_the_module(browser, recorded):
    before = seconds_on_task(recorded)
    context = browser.new_context()
    try:
        name, value = recorded.cookie().split("=", 1)
        context.add_cookies([{"name": name, "value": value, "url": recorded.live.base}])
        page = context.new_page()
        page.clock.install()
        heartbeat = f"{recorded.live.base}/modules/{MODULE}/heartbeat"
        beats: list[str] = []
        page.on("request", lambda r: beats.append(r.post_data) if r.url == heartbeat else None)
        page.goto(recorded.live.base + recorded.replay_path())
        page.get_by_role("button", name="Play recording").press("Enter")
        expect(page.get_by_role("button", name="Pause recording")).to_be_visible()
        # Six minutes of listening without touching the page: still in use, so the beats go on (not "resumed").
        page.clock.run_for(6 * 60 * 1000)
        wait_for(lambda: len(beats) >= 12, "a heartbeat every 30 s of listening")
        assert beats[0] == "resumed=1" and set(beats[1:]) == {"resumed=0"}
        wait_for(lambda: seconds_on_task(recorded) > before, "the replay's time in the module's time on task")
        with RecordsStore(recorded.live.records_url) as store:
            assert store.sessions_attended(recorded.learner) == []  # live credit is for live attendance only
    finally:
        context.close()


def test_without_voice_the_timeline_replays_on_a_clock(browser, recorded):
    voice = recorded.folder / VOICE
    voice.rename(voice.with_suffix(".away"))
    try:
        context, page, errors = open_replay(browser, recorded)
        try:
            expect(page.locator("#audio")).to_have_count(0)
            expect(page.locator("#replay-note")).to_contain_text("No voice was recorded")
            page.locator("#chapters button").filter(has_text="Poll: Operate?").press("Enter")
            page.get_by_role("button", name="Play recording").press("Enter")
            expect(page.locator("#poll-note")).to_contain_text("results as participants saw them")  # the clock runs on
            assert errors == []
        finally:
            context.close()
    finally:
        voice.with_suffix(".away").rename(voice)

"""A real Janus (Debian's package) for the voice tests, and Chromium able to speak and listen over loopback.

Janus is started the way `conference start` starts it (readingroom.server.conference.janus_process:
a generated configuration, only the AudioBridge and the HTTP transport, media on this machine's
own address, which Linux delivers through the loopback device) on a free port. The browser gets a fake microphone playing a WAV of speech-like
sound (noise shaped into syllables, so Opus works as hard as on speech, and every second is
the same), and may use loopback addresses for WebRTC, so media never leave 127.0.0.1.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.servers import free_port
from tests.system_packages import require

SPEECH_SECONDS = 4
RATE = 48000


def write_speechlike(path: Path) -> Path:
    """Noise band-limited to speech and shaped into 4 syllables a second: Chromium loops it as the microphone."""
    rng = np.random.default_rng(17)
    t = np.arange(SPEECH_SECONDS * RATE) / RATE
    noise = np.convolve(rng.standard_normal(t.size), np.ones(12) / 12, mode="same")  # a low-pass: speech-like band
    voiced = 0.6 * np.sin(2 * np.pi * 140 * t) + 0.3 * np.sin(2 * np.pi * 280 * t)
    syllables = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2 / 4
    signal = (voiced + 2.0 * noise) * syllables
    samples = np.int16(np.clip(signal / np.abs(signal).max(), -1, 1) * 0.8 * 32767)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return path


def voice_browser_args(microphone: Path) -> list[str]:
    return ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            "--allow-loopback-in-peer-connection", f"--use-file-for-fake-audio-capture={microphone}",
            "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def voice_browser(browser, tmp_path_factory):
    """A second Chromium from the run's one Playwright (two cannot run at once), with a fake microphone."""
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    microphone = write_speechlike(tmp_path_factory.mktemp("microphone") / "speech.wav")
    launched = browser.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                           args=CHROMIUM_ARGS + voice_browser_args(microphone))
    yield launched
    launched.close()


def janus_child(pid: int) -> int:
    """The Janus process a `conference start` (process ``pid``) started, found among its children."""
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            if Path(f"/proc/{child}/comm").read_text().strip() == "janus":
                return int(child)
    raise AssertionError(f"process {pid} has no Janus child")


@pytest.fixture
def janus_server(tmp_path) -> Iterator[object]:
    """A Janus of the test's own, as someone else runs one (no API secret), for --janus-url."""
    require("janus")
    from readingroom.server.conference.janus_process import JanusProcess, own_address

    janus = JanusProcess(ice_interfaces=own_address(), log_path=tmp_path / "janus.log", http_port=free_port(),
                         secured=False).start()
    yield janus
    janus.stop()

"""A real Janus (Debian's package) for the voice tests, and Chromium able to speak and listen over loopback.

Janus is started the way `conference start` starts it (readingroom.server.conference.janus_process:
a generated configuration, only the AudioBridge and the HTTP transport) on a free port, its media
on 127.0.0.2 (`--voice-interface 127.0.0.2`): Janus skips loopback interfaces, so :func:`loopback_media`
puts that loopback address on a veth of the run's own, and the kernel still delivers it through lo.
The browser gets a fake microphone playing a WAV of speech-like sound (noise shaped into syllables,
so Opus works as hard as on speech, and every second is the same), and may use loopback addresses
for WebRTC. Chromium also gathers on the veth's 127.0.0.2 and on eth0; Janus answers only checks from
127.0.0.2 (seen with a packet count on lo and eth0: none from Janus to 127.0.0.1 or eth0's address),
so the pair that carries media is 127.0.0.2 to 127.0.0.2 and nothing is sent to eth0's address.
"""

from __future__ import annotations

import os
import re
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.servers import free_port
from tests.system_packages import require

SPEECH_SECONDS = 4
RATE = 48000
MEDIA_ADDRESS = "127.0.0.2"  # loopback (127.0.0.0/8), on an interface Janus does not skip
VETH = re.compile(r": rrvoice(\d+)a[@:]")  # a run's pair: rrvoice<pid>a / rrvoice<pid>b


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.fail(f"ip {' '.join(args)}: {done.stderr.strip()}")


@pytest.fixture(scope="session")
def loopback_media() -> Iterator[str]:
    """127.0.0.2 on a veth pair of this run's own (UP and RUNNING, not IFF_LOOPBACK, so Janus gathers on it);
    the kernel routes it through lo like all of 127.0.0.0/8. Pairs left by killed runs are removed first."""
    require("iproute2")
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    for pid in VETH.findall(links):
        if not Path(f"/proc/{pid}").exists() or int(pid) == os.getpid():
            _ip("link", "delete", f"rrvoice{pid}a")
    name = f"rrvoice{os.getpid()}"
    _ip("link", "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b")
    try:
        _ip("addr", "add", f"{MEDIA_ADDRESS}/32", "dev", f"{name}a")
        _ip("link", "set", f"{name}a", "up")
        _ip("link", "set", f"{name}b", "up")
        yield MEDIA_ADDRESS
    finally:
        subprocess.run(["ip", "link", "delete", f"{name}a"], capture_output=True, check=False)  # its peer goes with it


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
def janus_server(tmp_path, loopback_media) -> Iterator[object]:
    """A Janus of the test's own, as someone else runs one (no API secret), for --janus-url; media on 127.0.0.2."""
    require("janus")
    from readingroom.server.conference.janus_process import JanusProcess

    janus = JanusProcess(ice_interfaces=loopback_media, log_path=tmp_path / "janus.log", http_port=free_port(),
                         secured=False).start()
    yield janus
    janus.stop()

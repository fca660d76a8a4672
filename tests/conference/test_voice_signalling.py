"""Voice signalling through the app to a Janus someone else runs (`--janus-url`), and a session kept unrecorded.

No browser: a participant's socket (tests/conference/conftest.py) sends the SDP offer of a
real WebRTC peer (aiortc) and gets Janus's answer back through the app, as a page does.
Janus's media are on 127.0.0.2 (tests/janus_fixtures.py: loopback_media), and so are the peer's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import signal
from pathlib import Path

import pytest

from readingroom.server.conference import recordings
from tests.conference.conftest import start_conference
from tests.conftest import run_async
from tests.janus_fixtures import MEDIA_ADDRESS, janus_server, loopback_media  # noqa: F401  (fixtures)

STUN = "stun:stun.hospital.example:3478"


def loopback_peer():
    """A real WebRTC peer (aiortc) with no STUN server, gathering on Janus's loopback media address only.

    aioice leaves loopback addresses out of its host candidates, so it would offer this machine's
    other addresses; the test's own client is told to use 127.0.0.2 instead (the client is configured,
    the app and Janus under test are not touched), so media stay on loopback addresses. Not 127.0.0.1:
    Janus (libnice) never answers connectivity checks from it (seen here: no reply to any binding request).
    """
    import aioice.ice
    from aiortc import RTCConfiguration, RTCPeerConnection

    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [MEDIA_ADDRESS]
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction="sendrecv")
    return pc


async def offer_of(pc) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return "".join(line for line in pc.localDescription.sdp.splitlines(keepends=True)  # Janus 1.1.2 checks one
                   if not line.startswith(("a=fingerprint:sha-384", "a=fingerprint:sha-512")))  # sha-256 fingerprint


def offer() -> str:
    """An audio offer from a real WebRTC stack, nothing asked of the network."""
    async def make() -> str:
        pc = loopback_peer()
        sdp = await offer_of(pc)
        await pc.close()
        return sdp

    return run_async(make())


def candidate_addresses(sdp: str) -> list[str]:
    """The connection address of every a=candidate line."""
    return [line.split()[4] for line in sdp.splitlines() if line.startswith("a=candidate:")]


@pytest.fixture
def unrecorded(janus_server, tmp_path):  # noqa: F811
    live = start_conference(tmp_path, f"sqlite:///{tmp_path / 'records.sqlite'}",
                            extra=(f"--janus-url={janus_server.url}", "--no-record", f"--stun={STUN}"))
    yield live
    live.server.stop()


def test_an_offer_reaches_the_given_janus_through_the_app_and_nothing_is_recorded(unrecorded, janus_server):  # noqa: F811
    presenter = unrecorded.presenter()
    participant = unrecorded.participant("Dr Ana Quarry")
    assert participant.welcome["voice"] == {"enabled": True, "available": True, "recorded": False,
                                            "ice_servers": [{"urls": STUN}]}
    participant.send({"type": "voice_offer", "sdp": offer()})
    answer = participant.next("voice_answer", timeout=20)["sdp"]
    assert "a=rtpmap:96 opus/48000/2" in answer.replace("\r\n", "\n").split("\n") or "opus/48000/2" in answer
    assert "useinbandfec" in answer
    assert "Creating new session" in janus_server.log_path.read_text()  # the app's session on the Janus given
    participant.send({"type": "hand", "value": True})
    state = presenter.next("voice_state")
    while not state["hands"]:
        state = presenter.next("voice_state")
    assert state["hands"] == [{"id": participant.joined["participant"], "name": "Dr Ana Quarry"}]
    folder = recordings.session_folder(unrecorded.workdir / "jupyter-conference" / "data" / "readingroom" / "recordings",
                                       unrecorded.session)
    assert (folder / recordings.NOT_RECORDED).exists()
    assert not (folder / recordings.VOICE).exists() and not (folder / recordings.VOICE_STARTED).exists()


def test_janus_offers_only_loopback_media_and_audio_flows_over_it(unrecorded):
    """Janus's answer names only loopback candidates, and a real peer on 127.0.0.1 connects and receives the mix."""
    from aiortc import RTCSessionDescription

    participant = unrecorded.participant("Dr Eve Marsh")

    async def call() -> tuple[object, int]:
        pc = loopback_peer()
        tracks = []
        pc.on("track", tracks.append)
        participant.send({"type": "voice_offer", "sdp": await offer_of(pc)})
        answer = participant.next("voice_answer", timeout=20)["sdp"]  # no media flow yet: blocking here is harmless
        addresses = candidate_addresses(answer)
        assert addresses and all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        try:
            frame = await asyncio.wait_for(tracks[0].recv(), 20)  # Janus sends the mix, silence included
            pair = pc.getTransceivers()[0].receiver.transport.transport.iceGatherer._connection._nominated[1]
            return pair, frame.sample_rate
        finally:
            await pc.close()

    pair, rate = run_async(call())
    assert pair.local_candidate.host == MEDIA_ADDRESS and ipaddress.ip_address(pair.remote_candidate.host).is_loopback
    assert rate == 48000  # Opus decoded: audio arrived over the loopback pair


def test_a_participant_cannot_give_itself_the_floor(unrecorded):
    presenter = unrecorded.presenter()
    participant = unrecorded.participant("Dr Ben Ollis")
    participant.send({"type": "floor", "participant": participant.joined["participant"], "value": True})
    participant.send({"type": "mic", "value": True})
    participant.send({"type": "ping", "t": 1})
    assert participant.next("pong")["t"] == 1  # dropped, the socket still open
    assert "'floor' is not allowed for a participant" in unrecorded.log_text()
    presenter.send({"type": "ping", "t": 2})
    assert presenter.next("pong")["t"] == 2
    assert presenter.welcome["voice_state"]["floor"] is None


def test_voice_comes_back_when_janus_does(unrecorded, janus_server, loopback_media, tmp_path):  # noqa: F811
    from readingroom.server.conference.janus_process import JanusProcess

    participant = unrecorded.participant("Dr Cy Ndlovu")
    os.kill(janus_server.proc.pid, signal.SIGKILL)
    janus_server.proc.wait()
    assert participant.next("voice", timeout=30)["available"] is False  # the page says voice is unavailable
    participant.send({"type": "ping", "t": 3})
    assert participant.next("pong")["t"] == 3  # and the conference goes on
    again = JanusProcess(ice_interfaces=loopback_media, log_path=tmp_path / "janus-again.log",
                         http_port=janus_server.config.http_port, secured=False).start()
    try:
        assert participant.next("voice", timeout=30)["available"] is True  # asked again, it answers
        participant.send({"type": "voice_offer", "sdp": offer()})
        assert "opus/48000/2" in participant.next("voice_answer", timeout=20)["sdp"]
    finally:
        again.stop()


def test_without_voice_pages_hear_it_is_off_and_no_janus_runs(tmp_path):
    live = start_conference(tmp_path, f"sqlite:///{tmp_path / 'records.sqlite'}", extra=("--no-voice",))
    try:
        participant = live.participant("Dr Di Okafor")
        assert participant.welcome["voice"] == {"enabled": False, "available": False, "recorded": False,
                                                "ice_servers": []}
        participant.send({"type": "voice_offer", "sdp": offer()})
        assert participant.next("voice_failed")["error"] == "Voice is unavailable right now."
        children = Path(f"/proc/{live.server.proc.pid}/task").glob("*/children")
        assert all("janus" not in Path(f"/proc/{pid}/comm").read_text()
                   for tasks in children for pid in tasks.read_text().split() if Path(f"/proc/{pid}").exists())
    finally:
        live.server.stop()

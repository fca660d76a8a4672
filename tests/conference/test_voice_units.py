"""Voice's parts without a browser: message checks, the floor, Janus's generated configuration, the CLI's refusals."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from readingroom.cli import app
from readingroom.server.conference.janus_process import JanusConfig
from readingroom.server.conference.messages import (
    PARTICIPANT,
    PRESENTER,
    Rejected,
    parse,
)
from readingroom.server.conference.voice_floor import Floor
from tests.conference.conftest import CASE, CASES

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"


@pytest.mark.parametrize("message, role", [
    ({"type": "voice_offer", "sdp": SDP}, PARTICIPANT),
    ({"type": "voice_offer", "sdp": SDP}, PRESENTER),
    ({"type": "voice_stop"}, PARTICIPANT),
    ({"type": "hand", "value": True}, PARTICIPANT),
    ({"type": "mic", "value": True}, PRESENTER),
    ({"type": "mute_all"}, PRESENTER),
    ({"type": "floor", "participant": 3, "value": True}, PRESENTER),
])
def test_voice_messages_pass_for_their_role(message, role):
    assert parse(json.dumps(message), role) == message


@pytest.mark.parametrize("message, role, reason", [
    ({"type": "mic", "value": True}, PARTICIPANT, "'mic' is not allowed for a participant"),
    ({"type": "mute_all"}, PARTICIPANT, "'mute_all' is not allowed for a participant"),
    ({"type": "floor", "participant": 3, "value": True}, PARTICIPANT, "'floor' is not allowed for a participant"),
    ({"type": "hand", "value": True}, PRESENTER, "'hand' is not allowed for a presenter"),
    ({"type": "voice_offer", "sdp": "hello"}, PARTICIPANT, "field 'sdp': expected an SDP offer"),
    ({"type": "voice_offer", "sdp": SDP + "a" * 12300}, PARTICIPANT, "field 'sdp': expected an SDP offer"),
    ({"type": "floor", "participant": -1, "value": True}, PRESENTER, "field 'participant'"),
])
def test_voice_messages_out_of_role_or_shape_are_dropped(message, role, reason):
    with pytest.raises(Rejected, match=reason):
        parse(json.dumps(message), role)


def test_only_the_floor_holder_and_the_presenters_open_microphone_may_speak():
    floor = Floor()
    assert floor.raise_hand(7, "Dr A", True) and floor.raise_hand(8, "Dr B", True)
    assert not floor.raise_hand(7, "Dr A", True)  # raised already
    assert [h["name"] for h in floor.state(True)["hands"]] == ["Dr A", "Dr B"]  # oldest first
    assert not floor.may_speak(None) and not floor.may_speak(7)
    assert floor.give(7) is None
    assert floor.may_speak(7) and not floor.may_speak(8)
    assert [h["id"] for h in floor.state(True)["hands"]] == [8]  # given the floor, the hand goes down
    assert floor.give(8) == 7  # one at a time: the one before is to be muted
    floor.mic = True
    assert floor.may_speak(None)
    assert floor.mute_all() == 8
    assert not any(floor.may_speak(who) for who in (None, 7, 8))
    assert not floor.take_back(8)


def test_the_roster_lists_participants_listening_not_the_presenter():
    floor = Floor(listening={"a": 4, "b": None, "c": 4, "d": 2})
    assert floor.state(True)["listening"] == [2, 4]


def test_janus_is_configured_for_the_audiobridge_over_http_on_loopback_only(tmp_path):
    config = JanusConfig(http_port=41234, ice_interfaces="lo")
    main = config.write(tmp_path).read_text()
    assert f'api_secret = "{config.api_secret}"' in main and 'ice_enforce_list = "lo"' in main
    assert "libjanus_audiobridge.so" not in main.split("plugins: {")[1].split("}")[0]  # the one plugin not disabled
    assert "libjanus_http.so" not in main.split("transports: {")[1].split("}")[0]
    assert "libjanus_websockets.so" in main.split("transports: {")[1].split("}")[0]
    http = (tmp_path / "janus.transport.http.jcfg").read_text()
    assert 'ip = "127.0.0.1"' in http and "port = 41234" in http and "admin_http = false" in http
    assert f'admin_key = "{config.admin_key}"' in (tmp_path / "janus.plugin.audiobridge.jcfg").read_text()


@pytest.mark.parametrize("args, message", [
    (("--voice-kbps=100",), "error: --voice-kbps 100: give 6 to 64"),
    (("--stun=stun.example.org",), "error: --stun stun.example.org: a STUN server's address starts with stun:"),
    (("--turn=turn:turn.example.org",), "error: --turn needs --turn-user and --turn-password"),
    (("--turn=http://x",), "error: --turn http://x: a TURN server's address starts with turn: or turns:"),
    (("--janus-url=127.0.0.1:8088",), "error: --janus-url 127.0.0.1:8088: give the HTTP API's address"),
    (("--voice-interface=nosuch9",), "error: --voice-interface nosuch9: this machine has no such interface or address"),
    (("--voice-interface=lo",), "error: --voice-interface lo: Janus gathers media only on interfaces that are up and not"),
])
def test_bad_voice_options_are_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(app, ["conference", "start", CASE, f"--cases={CASES}", *args])
    assert done.exit_code == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(message), done.stderr
    assert list(tmp_path.iterdir()) == []

// The presenter console's voice: the microphone, "Mute all", raised hands with "Let speak" and
// "Take back". The server holds the media room's secret and does the muting; this page asks.

import { el } from "./conference.js";
import { VoiceLink, setText } from "./voice.js";

/** Wire the voice controls of presenter.html; ``onListeners`` gets the ids of participants listening. */
export function presenterVoice({ send, $, onListeners }) {
  const state = { enabled: false, available: false, iceServers: [], mic: false, floor: null, hands: [], names: new Map() };
  const voice = new VoiceLink({ send, status: $("audio"), onChange: draw });

  function draw() {
    const live = state.mic && voice.sending;
    const mic = $("mic");
    mic.disabled = !state.available;
    mic.setAttribute("aria-pressed", String(state.mic));
    mic.textContent = state.mic ? "Turn microphone off" : "Turn microphone on";
    $("mute-all").disabled = !state.available;
    const shown = $("mic-state");
    shown.dataset.rrMic = live ? "live" : state.mic ? "starting" : "off";
    setText(shown, voice.error || (live ? "Microphone live: everyone hears you"
      : state.mic ? "Opening the microphone…" : "Microphone off"));
    setText($("voice-note"), !state.enabled ? "Voice is off for this conference (started with --no-voice)."
      : !state.available ? "Voice is unavailable right now: the media server does not answer." : "");
  }

  function drawHands() {
    const rows = state.hands.map((h) => el("li", {}, el("span", { textContent: `${h.name} ` }),
      el("button", { type: "button", textContent: "Let speak", "aria-label": `Let ${h.name} speak`,
        onclick: () => send({ type: "floor", participant: h.id, value: true }) })));
    if (state.floor !== null) {
      const name = state.names.get(state.floor) || "A participant";
      rows.unshift(el("li", { "data-floor": "true" }, el("span", { textContent: `${name} is speaking ` }),
        el("button", { type: "button", textContent: "Take back", "aria-label": `Take back the floor from ${name}`,
          onclick: () => send({ type: "floor", participant: state.floor, value: false }) })));
    }
    $("hands").replaceChildren(...rows);
    $("hands-none").hidden = rows.length > 0;
  }

  $("mic").addEventListener("click", async () => {
    const on = !state.mic;
    try {
      if (on) {
        await voice.openMic();
        if (voice.state === "off") await voice.start(state.iceServers);
      } else voice.closeMic();
      send({ type: "mic", value: on });
      state.mic = on;
    } catch (e) {
      voice.fail(`The microphone could not be opened: ${e.message}`);
    }
    draw();
  });
  $("mute-all").addEventListener("click", () => { if (send({ type: "mute_all" })) { voice.closeMic(); state.mic = false; draw(); } });

  function setVoice(info) {
    Object.assign(state, { enabled: info.enabled, available: info.available, iceServers: info.ice_servers || [] });
    if (!state.available && voice.state !== "off") voice.fail("Voice is unavailable right now.");
  }

  function setFloor(floor) {
    Object.assign(state, { mic: floor.mic && Boolean(voice.mic), floor: floor.floor, hands: floor.hands, available: floor.available });
    for (const h of floor.hands) state.names.set(h.id, h.name);
    drawHands();
    onListeners(new Set(floor.listening));
  }

  function onMessage(msg) {
    if (msg.type === "voice") setVoice(msg);
    else if (msg.type === "voice_state") setFloor(msg);
    else if (msg.type === "voice_answer") voice.answer(msg.sdp).catch((e) => voice.fail(`Voice could not start: ${e.message}`));
    else if (msg.type === "voice_failed") voice.fail(msg.error);
    else if (msg.type === "roster") for (const p of msg.roster || []) state.names.set(p.id, p.name);
    else if (msg.type === "welcome") {
      if (msg.voice) setVoice(msg.voice);
      if (msg.voice_state) setFloor(msg.voice_state);
      if (voice.state !== "off") voice.start(state.iceServers); // the server forgot the old socket's connection
      draw();
      return false;
    }
    else return false;
    draw();
    return msg.type !== "roster";
  }
  draw();
  drawHands();
  return { onMessage, voice };
}

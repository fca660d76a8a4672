// The participant page's voice: "Listen", "Raise hand", and "Talk" while the presenter gives this
// page the floor. Voice failing or off never touches following, polls or questions.

import { VoiceLink, setText } from "./voice.js";

const AUDIO_TEXT = { off: "Voice off", connecting: "Connecting to the voice…", receiving: "Listening to the conference" };

/** Wire the voice controls of follower.html; returns the handler for the server's voice messages. */
export function followerVoice({ send, $ }) {
  const state = { enabled: false, available: false, recorded: false, iceServers: [], floor: false, hand: false };
  const voice = new VoiceLink({ send, status: $("audio"), onChange: draw });

  function draw() {
    const on = voice.state !== "off";
    setText($("audio"), voice.error || AUDIO_TEXT[voice.state]);
    setText($("audio-quality"), voice.quality);
    const listen = $("listen");
    listen.disabled = !state.available;
    listen.setAttribute("aria-pressed", String(on));
    listen.textContent = on ? "Stop listening" : "Listen";
    $("hand").disabled = !state.available;
    $("hand").setAttribute("aria-pressed", String(state.hand));
    $("hand").textContent = state.hand ? "Lower hand" : "Raise hand";
    $("talk").hidden = !state.floor;
    $("talk").setAttribute("aria-pressed", String(Boolean(voice.mic)));
    $("talk").textContent = voice.mic ? "Stop talking" : "Talk";
    document.body.dataset.rrFloor = String(state.floor);
  }

  function note() {
    const text = !state.enabled ? "Voice is off for this conference: follow the images and ask in writing."
      : !state.available ? "Voice is unavailable right now; the images, polls and questions carry on."
      : state.recorded ? "This session is recorded." : "";
    setText($("voice-note"), text);
  }

  $("listen").addEventListener("click", () => {
    if (voice.state === "off") voice.start(state.iceServers).catch((e) => voice.fail(`Voice could not start: ${e.message}`));
    else voice.stop();
  });
  $("hand").addEventListener("click", () => {
    if (send({ type: "hand", value: !state.hand })) { state.hand = !state.hand; draw(); }
  });
  $("talk").addEventListener("click", async () => {
    try {
      if (voice.mic) { voice.closeMic(); return; }
      await voice.openMic();
      if (voice.state === "off") await voice.start(state.iceServers);
    } catch (e) {
      voice.fail(`The microphone could not be opened: ${e.message}`);
    }
  });

  function setVoice(info) {
    Object.assign(state, { enabled: info.enabled, available: info.available, recorded: info.recorded, iceServers: info.ice_servers || [] });
    if (!state.available && voice.state !== "off") voice.fail("Voice is unavailable right now.");
    note();
  }

  function onMessage(msg) {
    if (msg.type === "voice") setVoice(msg);
    else if (msg.type === "voice_answer") voice.answer(msg.sdp).catch((e) => voice.fail(`Voice could not start: ${e.message}`));
    else if (msg.type === "voice_failed") voice.fail(msg.error);
    else if (msg.type === "floor") {
      state.floor = msg.value;
      if (msg.value) state.hand = false;
      else voice.closeMic();
    } else if (msg.type === "welcome") {
      if (msg.voice) setVoice(msg.voice);
      state.hand = false; state.floor = false; // a new socket: the server forgot both
      if (voice.state !== "off") voice.start(state.iceServers); // and this page's old voice connection with it
    } else return false;
    draw();
    return true;
  }
  draw();
  return { onMessage, voice };
}

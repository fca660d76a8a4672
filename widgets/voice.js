// Voice on the conference pages: one RTCPeerConnection to the media server (Janus's AudioBridge),
// signalled through the conference socket, never straight to Janus. The server decides who is
// heard: this module offers, plays the mix that arrives, puts the microphone on its sender when
// the page may speak, and reports what WebRTC's statistics say every second.

const STATS_MS = 1000;
const GATHER_MS = 5000; // the offer carries its candidates (no trickle); gathering rarely takes this long

/** Set a live region's text only when it changes: a screen reader would read it out again every second. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Wait until the connection has gathered its ICE candidates (or GATHER_MS passed). */
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") { pc.removeEventListener("icegatheringstatechange", done); resolve(); } };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_MS);
  });
}

/** Words for the link-quality hint, from loss (fraction), jitter and round trip (seconds). */
export function linkQuality({ loss, jitter, rtt }) {
  if (loss === null) return "";
  const bad = loss > 0.1 || jitter > 0.1 || rtt > 0.6;
  const fair = loss > 0.02 || jitter > 0.04 || rtt > 0.3;
  const label = bad ? "poor" : fair ? "fair" : "good";
  const parts = [`${Math.round(loss * 100)}% lost`, `jitter ${Math.round(jitter * 1000)} ms`];
  if (rtt !== null) parts.push(`round trip ${Math.round(rtt * 1000)} ms`);
  return `Audio link ${label} (${parts.join(", ")})`;
}

export class VoiceLink {
  /**
   * @param {{send: (msg: object) => boolean, status: HTMLElement, onChange: (voice: VoiceLink) => void}} options
   * ``status`` carries data-rr-audio (off | connecting | receiving) and data-rr-audio-bytes.
   */
  constructor({ send, status, onChange }) {
    this.send = send;
    this.status = status;
    this.onChange = onChange;
    this.pc = null;
    this.mic = null; // the microphone's track while the page sends
    this.bytes = 0; // inbound audio bytes so far
    this.sentBytes = 0;
    this.quality = "";
    this.error = "";
    this.audio = Object.assign(document.createElement("audio"), { autoplay: true });
    this.audio.hidden = true;
    document.body.append(this.audio);
    Object.assign(this.status.dataset, { rrAudio: "off", rrAudioBytes: "0" });
  }

  get state() { return this.status.dataset.rrAudio; }

  setState(state) {
    this.status.dataset.rrAudio = state;
    this.status.dataset.rrAudioBytes = String(this.bytes);
    this.onChange(this);
  }

  /** Connect (muted by the server until it says otherwise); ``iceServers`` from the server's ``voice`` message. */
  async start(iceServers) {
    this.stop(false);
    this.error = "";
    this.bytes = 0;
    this.setState("connecting");
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    this.sender = pc.addTransceiver("audio", { direction: "sendrecv" }).sender; // sends only once given a track
    if (this.mic) await this.sender.replaceTrack(this.mic);
    pc.ontrack = (evt) => { this.audio.srcObject = evt.streams[0] || new MediaStream([evt.track]); this.audio.play().catch(() => {}); };
    pc.onconnectionstatechange = () => {
      if (this.pc === pc && pc.connectionState === "failed") this.fail("The audio connection failed.");
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.pc !== pc) return;
    if (!this.send({ type: "voice_offer", sdp: pc.localDescription.sdp })) { this.fail("Not connected to the conference."); return; }
    this.timer = setInterval(() => this.sample(), STATS_MS);
  }

  /** The server's answer (Janus's SDP). */
  async answer(sdp) {
    if (this.pc && this.pc.signalingState === "have-local-offer") await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  fail(reason) {
    this.error = reason;
    this.stop(false);
  }

  /** Hang up; ``tell`` the server (false when it is the server that gave up). */
  stop(tell = true) {
    clearInterval(this.timer);
    if (this.pc) { this.pc.close(); this.pc = null; if (tell) this.send({ type: "voice_stop" }); }
    this.quality = "";
    this.setState("off");
  }

  /** Open the microphone (a permission prompt the first time); it is heard only once the server unmutes this page. */
  async openMic() {
    if (!this.mic) {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      this.mic = stream.getAudioTracks()[0];
    }
    if (this.sender) await this.sender.replaceTrack(this.mic);
    this.onChange(this);
  }

  closeMic() {
    if (this.sender) this.sender.replaceTrack(null);
    if (this.mic) this.mic.stop();
    this.mic = null;
    this.onChange(this);
  }

  /** Whether the microphone's audio is leaving this page (the connection is up and bytes go out). */
  get sending() { return Boolean(this.mic && this.pc && this.pc.connectionState === "connected" && this.sentBytes > 0); }

  async sample() {
    const pc = this.pc;
    if (!pc) return;
    let inbound = null; let pair = null; let sent = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") inbound = s;
      else if (s.type === "outbound-rtp" && s.kind === "audio") sent = s.bytesSent || 0;
      else if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
    });
    if (this.pc !== pc) return;
    const before = this.bytes;
    this.bytes = inbound ? inbound.bytesReceived || 0 : 0;
    this.sentBytes = this.mic ? sent : 0;
    if (inbound) {
      const lost = Math.max(0, inbound.packetsLost || 0);
      const loss = lost / Math.max(1, lost + (inbound.packetsReceived || 0));
      this.quality = linkQuality({ loss, jitter: inbound.jitter || 0, rtt: pair ? pair.currentRoundTripTime ?? null : null });
    }
    this.setState(this.bytes > before ? "receiving" : pc.connectionState === "connected" ? "connecting" : this.state);
  }
}

// Cine: plays the frames of the plane on screen at a chosen rate (space, or the Play button),
// and tells the model where it stopped.

import { h } from "./dom.js";

/** @param {import("./viewer.js").ViewerContext} v */
export function cine(v) {
  let playing = false, last = 0;
  const button = h("button", { type: "button", "aria-label": "Play cine", title: "Play/pause (space)", "aria-pressed": "false", text: "Play" });
  const fps = h("input", { type: "number", min: "1", max: "60", step: "1", value: "10", "aria-label": "Frames per second", style: "width:4em" });
  button.addEventListener("click", () => set(!playing));

  function tick(now) {
    if (!playing) return;
    const rate = Math.max(1, Math.min(60, Number(fps.value) || 10));
    if (now - last >= 1000 / rate) { last = now; v.setFrame((v.index + 1) % v.geom().count, false); }
    requestAnimationFrame(tick);
  }
  function set(on) {
    playing = on && !!v.m && v.m.count >= 2;
    button.setAttribute("aria-pressed", String(playing));
    button.textContent = playing ? "Pause" : "Play";
    button.setAttribute("aria-label", playing ? "Pause cine" : "Play cine");
    v.root.dataset.playing = String(playing);
    if (playing) { last = performance.now(); requestAnimationFrame(tick); } else v.saveFrame();
  }

  return {
    controls: [button, fps],
    load(m) { fps.value = String(Math.round(m.frame_rate || 10)); button.disabled = m.count < 2; },
    key(evt) { if (evt.key !== " ") return false; set(!playing); return true; },
    stop() { playing = false; },
    show(root) { root.dataset.playing = String(playing); },
  };
}

// Window/level and inversion: the grey-level mapping of the viewer. Owns the window (center,
// width, VOI function) and writes it to the model; drag, presets (keys 0-9, menu), steppers and
// Shift+arrows change it; i inverts.

import { h } from "./dom.js";

/** @param {import("./viewer.js").ViewerContext} v */
export function windowTool(v) {
  const { model } = v;
  const st = { center: 40, width: 400, fn: "LINEAR" };
  const presets = h("select", { "aria-label": "Window preset" });
  const invertButton = h("button", { type: "button", "aria-label": "Invert", title: "Invert (i)", "aria-pressed": "false", text: "Invert" });
  presets.addEventListener("change", () => {
    if (presets.value === "0") reset(); else preset(v.m.presets.find((p) => p.key === presets.value));
    presets.value = "";
  });
  invertButton.addEventListener("click", () => invert(!model.get("invert")));

  function set(center, width, save = true) {
    st.center = center; st.width = Math.max(1, width); st.fn = "LINEAR";
    v.repaint();
    if (save) v.put("window", [st.center, st.width]);
  }
  function preset(p) { if (p) set(p.center, p.width); }
  /** The image's own window (and its VOI function). */
  function reset() {
    const w = v.m.windows[0];
    Object.assign(st, { center: w.center, width: w.width, fn: w.function || "LINEAR" });
    v.repaint();
    v.put("window", [st.center, st.width]);
  }
  function invert(on) { v.keep("invert", on); }
  /** One step: the level by a tenth of the width, or the width by a quarter. */
  function step(what, sign) {
    if (v.m.kind !== "grey") return;
    if (what === "level") set(st.center + sign * Math.max(1, st.width / 10), st.width);
    else set(st.center, sign > 0 ? st.width * 1.25 : st.width / 1.25);
  }
  const SHIFT_ARROWS = { ArrowDown: ["level", -1], ArrowUp: ["level", 1], ArrowLeft: ["width", -1], ArrowRight: ["width", 1] };

  return {
    controls: [presets, invertButton],
    steps: [["Lower level", "L−", "Shift+Down", () => step("level", -1)], ["Raise level", "L+", "Shift+Up", () => step("level", 1)],
      ["Narrower window", "W−", "Shift+Left", () => step("width", -1)], ["Wider window", "W+", "Shift+Right", () => step("width", 1)]],
    /** What painting needs: the window, its function, and whether grey levels are inverted. */
    get view() { return { center: st.center, width: st.width, fn: st.fn, invert: !!model.get("invert") !== !!v.m.invert }; },
    load(m) {
      const w = model.get("window"), first = m.windows[0];
      st.fn = first.function || "LINEAR";
      if (Array.isArray(w) && w.length === 2) { st.center = w[0]; st.width = w[1]; if (w[0] !== first.center || w[1] !== first.width) st.fn = "LINEAR"; }
      else { st.center = first.center; st.width = first.width; }
      presets.replaceChildren(h("option", { value: "", text: "Window preset" }), h("option", { value: "0", text: "0 · Image default" }),
        ...m.presets.map((p) => h("option", { value: p.key, text: `${p.key} · ${p.label}` })));
      presets.disabled = m.kind !== "grey";
    },
    /** Dragging: right for a wider window, down for a higher level. */
    press(evt) {
      if (v.m.kind !== "grey") return null;
      const x = evt.clientX, y = evt.clientY, { center, width } = st;
      return { move(e) { const k = Math.max(width, 10) / 256; set(center + (e.clientY - y) * k, Math.max(1, width + (e.clientX - x) * k)); } };
    },
    key(evt, active) {
      const k = evt.key;
      if (active && evt.shiftKey && SHIFT_ARROWS[k]) step(...SHIFT_ARROWS[k]);
      else if (/^[1-9]$/.test(k) && v.m.presets.find((p) => p.key === k)) preset(v.m.presets.find((p) => p.key === k));
      else if (k === "0") reset();
      else if (k === "i") invert(!model.get("invert"));
      else return false;
      return true;
    },
    reset() { reset(); invert(false); },
    show(root) {
      root.dataset.windowCenter = String(Math.round(st.center * 100) / 100);
      root.dataset.windowWidth = String(Math.round(st.width * 100) / 100);
      root.dataset.invert = String(!!model.get("invert"));
      invertButton.setAttribute("aria-pressed", String(!!model.get("invert")));
    },
    /** Corner text: "W 80 L 40" and whether inverted. */
    label() {
      const inverted = model.get("invert") ? "inverted" : "";
      return v.m.kind === "grey" ? `W ${Math.round(st.width)} L ${Math.round(st.center)}  ${inverted}`.trim() : inverted;
    },
    modelHandlers: {
      "change:window": () => { const w = model.get("window"); if (Array.isArray(w) && (w[0] !== st.center || w[1] !== st.width)) set(w[0], w[1], false); },
      "change:invert": () => v.repaint(),
    },
  };
}

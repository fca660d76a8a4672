// readingroom DICOM viewer: one ES module for every host (anywidget, static page,
// conference follower). The host passes a model with get/set/on/off/save_changes;
// everything a user does (scroll, window, zoom, measure, cine) runs here without
// a kernel round trip, on the lossless frames, and only small view state is saved.

import {
  Transport, ellipseStats, ensureStyle, formatLength, niceLength, paintValues, segmentLength,
} from "./core.js";
import { FrameStore } from "./stack_loader.js";
import { VIEW_DEFAULTS } from "./view_state.js";

const CSS = `
[data-rr-viewer]{font:13px/1.3 system-ui,sans-serif;color:#ddd;background:#111;border-radius:4px;max-width:760px;outline:none;user-select:none}
[data-rr-viewer]:focus-visible{box-shadow:inset 0 0 0 3px #4a9eff}
[data-rr-viewer] .rr-bar{display:flex;flex-wrap:wrap;gap:4px;align-items:center;padding:4px;background:#1c1c1c}
[data-rr-viewer] button,[data-rr-viewer] select,[data-rr-viewer] input{font:inherit;background:#2a2a2a;color:#eee;border:1px solid #444;border-radius:3px;padding:2px 6px;min-height:28px;min-width:28px;box-sizing:border-box}
[data-rr-viewer] :focus-visible{outline:2px solid #4a9eff;outline-offset:1px;scroll-margin:48px}
[data-rr-viewer] .rr-steps{display:flex;flex-wrap:wrap;gap:4px;align-items:center;padding:0 4px 4px;background:#1c1c1c;min-height:28px}
[data-rr-viewer] .rr-steps:empty{display:none}
[data-rr-viewer] button[aria-pressed=true]{background:#2f5d8f;border-color:#4a9eff}
[data-rr-viewer] .rr-stage{position:relative;height:512px;overflow:hidden;touch-action:none;cursor:crosshair}
[data-rr-viewer] canvas{position:absolute;left:0;top:0;width:100%;height:100%}
[data-rr-viewer] .rr-ov{position:absolute;pointer-events:none;white-space:pre;text-shadow:0 0 3px #000,0 0 2px #000;font-size:12px}
[data-rr-viewer] .rr-tl{left:6px;top:4px}[data-rr-viewer] .rr-tr{right:6px;top:4px;text-align:right}
[data-rr-viewer] .rr-bl{left:6px;bottom:4px}[data-rr-viewer] .rr-br{right:6px;bottom:4px;text-align:right}
[data-rr-viewer] .rr-o{position:absolute;pointer-events:none;font-weight:bold;color:#ffd75e;text-shadow:0 0 3px #000}
[data-rr-viewer] .rr-scale{position:absolute;bottom:24px;right:12px;height:6px;border:2px solid #fff;border-top:0;pointer-events:none}
[data-rr-viewer] .rr-scale span{position:absolute;top:-16px;left:0;right:0;text-align:center;font-size:11px}
[data-rr-viewer][data-overlay=hidden] .rr-ov,[data-rr-viewer][data-overlay=hidden] .rr-o,[data-rr-viewer][data-overlay=hidden] .rr-scale{display:none}
[data-rr-viewer] .rr-status{display:flex;gap:12px;padding:3px 6px;min-height:1.3em;background:#1c1c1c}
[data-rr-viewer] .rr-load{position:absolute;left:0;right:0;bottom:0;height:3px;background:#333;pointer-events:none}
[data-rr-viewer] .rr-load span{position:absolute;left:0;top:0;bottom:0;width:0}
[data-rr-viewer] .rr-load .rr-loaded{background:#6b7f99}[data-rr-viewer] .rr-load .rr-lossless{background:#4a9eff}
[data-rr-viewer][data-complete] .rr-load{display:none}
[data-rr-viewer] .rr-slider{flex:1;min-width:120px;min-height:28px}
`;

// 8/16-bit samples window through one table over every possible value: built once per
// window, shared by all frames, so scrolling does no per-frame scan or table work.
const FULL_RANGE = { uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767] };

const TOOLS = [
  ["window", "Window/level", "w"], ["pan", "Pan", "p"], ["zoom", "Zoom", "z"],
  ["length", "Length", "m"], ["ellipse", "Ellipse ROI", "e"],
];

// Measuring by keyboard alone: with a measuring tool active, Enter on the viewer shows a
// crosshair; while it is shown the arrows move it instead of scrolling frames.
const MEASURING = new Set(["length", "ellipse"]);
const KEYBOARD_HINT = "; click the two points, or Enter: crosshair, arrows move it (Shift: 10 px), Enter places each point, Escape ends";
const CLICK_SLOP = 4; // CSS px a click may wander and still be a click, not a drag

// Every drag has buttons beside it (WCAG 2.5.7), shown for the active tool, and keys:
// [label, key hint, action name, sign]. The actions are defined in render().
const STEPS = {
  window: [["Lower level", "Shift+Down", "level", -1], ["Raise level", "Shift+Up", "level", 1],
    ["Narrower window", "Shift+Left", "width", -1], ["Wider window", "Shift+Right", "width", 1]],
  pan: [["Pan left", "Left", "panX", -1], ["Pan right", "Right", "panX", 1], ["Pan up", "Up", "panY", -1], ["Pan down", "Down", "panY", 1]],
  zoom: [["Zoom out", "-", "zoom", -1], ["Zoom in", "+", "zoom", 1]],
};
const STEP_SYMBOLS = { "Lower level": "L−", "Raise level": "L+", "Narrower window": "W−", "Wider window": "W+",
  "Pan left": "←", "Pan right": "→", "Pan up": "↑", "Pan down": "↓", "Zoom out": "−", "Zoom in": "+" };
const CROSSHAIR_MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v; else if (k === "text") el.textContent = v; else el.setAttribute(k, v);
  }
  el.append(...children);
  return el;
}

function debounce(fn, ms) {
  let t = 0, pending = false;
  const fire = () => { pending = false; fn(); };
  const run = () => { clearTimeout(t); pending = true; t = setTimeout(fire, ms); };
  run.flush = () => { clearTimeout(t); if (pending) fire(); };
  run.cancel = () => { clearTimeout(t); pending = false; };
  return run;
}

/** Render the viewer into ``el``; returns the cleanup function. */
export function render({ model, el, transport: mode = "probe" }) {
  ensureStyle("rr-viewer-css", CSS);
  // While it has focus the viewer owns the keys (as role="application" says): Notebook 7 reads keys for its
  // shortcuts before the page does, so without this ArrowUp would move the notebook's cursor and "x" cut the cell.
  const root = h("div", { "data-rr-viewer": "", tabindex: "0", role: "application", "aria-label": "DICOM image viewer",
    "data-lm-suppress-shortcuts": "true" });
  el.append(root);

  // ---- controls (all labelled; every one also has a key) ----
  const seriesSelect = h("select", { "aria-label": "Series" });
  const presetSelect = h("select", { "aria-label": "Window preset" });
  const planeSelect = h("select", { "aria-label": "Plane", title: "Plane: axial (x), coronal (c), sagittal (s)" },
    h("option", { value: "axial", text: "Acquired" }), h("option", { value: "coronal", text: "Coronal" }), h("option", { value: "sagittal", text: "Sagittal" }));
  const toolButtons = Object.fromEntries(TOOLS.map(([name, label, key]) => [name,
    h("button", { type: "button", "aria-label": label, title: `${label} (${key})${MEASURING.has(name) ? KEYBOARD_HINT : ""}`, "aria-pressed": "false", "data-tool": name, text: label })]));
  const invertButton = h("button", { type: "button", "aria-label": "Invert", title: "Invert (i)", "aria-pressed": "false", text: "Invert" });
  const fitButton = h("button", { type: "button", "aria-label": "Fit", title: "Fit to view (f)", text: "Fit" });
  const resetButton = h("button", { type: "button", "aria-label": "Reset", title: "Reset view (r)", text: "Reset" });
  const overlayButton = h("button", { type: "button", "aria-label": "Overlay text", title: "Show/hide overlay (o)", "aria-pressed": "true", text: "Overlay" });
  const annotationsButton = h("button", { type: "button", "aria-label": "Annotations", title: "Show/hide annotations (a)", "aria-pressed": "true", text: "Annotations" });
  const playButton = h("button", { type: "button", "aria-label": "Play cine", title: "Play/pause (space)", "aria-pressed": "false", text: "Play" });
  const fpsInput = h("input", { type: "number", min: "1", max: "60", step: "1", value: "10", "aria-label": "Frames per second", style: "width:4em" });
  const slider = h("input", { type: "range", min: "0", max: "0", value: "0", step: "1", class: "rr-slider", "aria-label": "Frame" });
  const bar = h("div", { class: "rr-bar", role: "toolbar", "aria-label": "Viewer tools" },
    seriesSelect, presetSelect, planeSelect, ...Object.values(toolButtons), invertButton, fitButton, resetButton,
    overlayButton, annotationsButton, playButton, fpsInput);

  const canvas = h("canvas", { "aria-hidden": "true" });
  const marks = h("canvas", { "aria-hidden": "true", class: "rr-marks" });
  const corners = { tl: h("div", { class: "rr-ov rr-tl" }), tr: h("div", { class: "rr-ov rr-tr" }), bl: h("div", { class: "rr-ov rr-bl" }), br: h("div", { class: "rr-ov rr-br" }) };
  const orient = { left: h("div", { class: "rr-o" }), right: h("div", { class: "rr-o" }), top: h("div", { class: "rr-o" }), bottom: h("div", { class: "rr-o" }) };
  const scaleLabel = h("span");
  const scaleBar = h("div", { class: "rr-scale" }, scaleLabel);
  // A thin bar: how much of the stack can be scrolled (previews), and how much is at full quality.
  const loadedBar = h("span", { class: "rr-loaded" }), losslessBar = h("span", { class: "rr-lossless" });
  const loadBar = h("div", { class: "rr-load", "aria-hidden": "true" }, loadedBar, losslessBar);
  const stage = h("div", { class: "rr-stage" }, canvas, marks, ...Object.values(corners), ...Object.values(orient), scaleBar, loadBar);
  const probe = h("span", { class: "rr-probe", "aria-live": "off" });
  const readout = h("span", { class: "rr-readout", "aria-live": "polite" });
  const steps = h("div", { class: "rr-steps", role: "group", "aria-label": "Adjust" });
  const status = h("div", { class: "rr-status" }, slider, probe, readout);
  root.append(bar, steps, stage, status);

  const ctx = canvas.getContext("2d");
  const mctx = marks.getContext("2d");
  const offscreen = document.createElement("canvas");
  const octx = offscreen.getContext("2d");
  /** The axial frame on screen at full resolution, windowed as shown (a host copies it for a locate question). */
  root.rrAxialImage = () => (plane === "axial" && paintedTier === "lossless" ? { frame: paintedFrame, canvas: offscreen } : null);

  // ---- state ----
  let m = null; // manifest
  let store = null;
  const transport = new Transport(model, mode);
  const st = { frame: 0, center: 40, width: 400, fn: "LINEAR", zoom: 1, pan: [0, 0], tool: "window", overlay: true, playing: false };
  let draft = null; // measurement being drawn
  let clicking = false; // the draft's first point was placed by a click; the next click places the second
  let crosshair = null; // [x, y] image point while measuring by keyboard
  let imageData = null;
  let paintedFrame = -1, paintedTier = "";
  let frameDirty = true;
  let raf = 0;
  let lastCursor = null;

  // The model (and every host listening to it: a presenter, a linked viewer) follows each step at
  // once; the kernel is told only where the user stopped (save_changes), not every step on the way.
  const settle = debounce(() => model.save_changes(), 800);
  const put = (key, value) => { model.set(key, value); settle(); };
  const keep = (key, value) => { model.set(key, value); settle.flush(); model.save_changes(); }; // one deliberate act
  const saveFrame = () => put("frame", st.frame);
  const saveView = () => { put("zoom", st.zoom); put("pan", [...st.pan]); };
  const saveWindow = () => put("window", [st.center, st.width]);

  // ---- geometry ----
  function layout() {
    const r = stage.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), hgt = Math.max(1, Math.round(r.height * dpr));
    for (const c of [canvas, marks]) if (c.width !== w || c.height !== hgt) { c.width = w; c.height = hgt; }
    return { w: r.width, h: r.height, dpr };
  }
  // ---- planes: the acquired one, and coronal/sagittal reformats of regular volumes ----
  let plane = "axial";
  const planeIndex = { coronal: 0, sagittal: 0 };
  let mprCache = null;
  function mprAllowed() {
    if (!m || m.kind !== "grey" || !m.regular || m.count < 2 || !m.slice_spacing) return false;
    const [s0, i0] = rescaleOf(0);
    return m.rescale.every(([s1, i1]) => s1 === s0 && i1 === i0);
  }
  /** Size, frame count and (row, column) spacing of the plane on screen. */
  function geom() {
    if (plane === "axial") return { rows: m.rows, columns: m.columns, count: m.count, kind: m.kind, pixel_spacing: m.pixel_spacing, detector_plane: m.detector_plane };
    const z = m.slice_spacing, ps = m.pixel_spacing;
    if (plane === "coronal") return { rows: m.count, columns: m.columns, count: m.rows, kind: m.kind, pixel_spacing: ps ? [z, ps[1]] : null, detector_plane: false };
    return { rows: m.count, columns: m.rows, count: m.columns, kind: m.kind, pixel_spacing: ps ? [z, ps[0]] : null, detector_plane: false };
  }
  function cur() { return plane === "axial" ? st.frame : planeIndex[plane]; }
  /** Stored values of the slice on screen (reformatted from the loaded frames; head at the top). */
  function viewValues() {
    if (!store) return null;
    if (plane === "axial") return store.values[st.frame];
    const k = planeIndex[plane];
    if (mprCache && mprCache.plane === plane && mprCache.k === k && mprCache.loaded === store.lossless) return mprCache.values;
    const any = store.values.find(Boolean);
    if (!any) return null;
    const g = geom();
    const out = new any.constructor(g.rows * g.columns);
    for (let z = 0; z < m.count; z++) {
      const src = store.values[z];
      if (!src) continue;
      const row = (m.count - 1 - z) * g.columns;
      if (plane === "coronal") out.set(src.subarray(k * m.columns, (k + 1) * m.columns), row);
      else for (let y = 0; y < m.rows; y++) out[row + y] = src[y * m.columns + k];
    }
    mprCache = { plane, k, loaded: store.lossless, values: out };
    return out;
  }
  function rangeOf(values) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < values.length; i++) { const x = values[i]; if (x < lo) lo = x; if (x > hi) hi = x; }
    return [lo, hi];
  }
  /** Show plane ``name``; ``save``: the user chose it (the model hears it), else the model named it. */
  function setPlane(name, save = true) {
    if (name !== "axial" && !mprAllowed()) return;
    if (crosshair) endCrosshair();
    if (name !== "axial" && plane === "axial") { planeIndex.coronal ||= Math.floor(m.rows / 2); planeIndex.sagittal ||= Math.floor(m.columns / 2); }
    plane = name;
    planeSelect.value = name;
    const g = geom();
    imageData = new ImageData(g.columns, g.rows);
    offscreen.width = g.columns; offscreen.height = g.rows;
    if (save) {
      st.pan = [0, 0];  // a new plane is a new picture: centred
      put("plane", name); put("plane_index", name === "axial" ? null : planeIndex[name]); put("pan", [0, 0]);
    } else st.pan = [...(model.get("pan") || [0, 0])];
    paintedFrame = -1; frameDirty = true; schedule();
  }
  /** The plane (and reformat slice) the model names (the kernel, or a conference follower's host, set them). */
  function restorePlane() {
    const p = model.get("plane") || "axial", k = model.get("plane_index");
    if (p !== plane) setPlane(p, false);
    if (plane !== "axial" && Number.isInteger(k) && k !== planeIndex[plane]) setFrame(k, false);
  }
  function aspect() {
    const ps = geom().pixel_spacing;
    if (!ps) return [1, 1];
    const [rs, cs] = ps, s = Math.min(rs, cs);
    return [cs / s, rs / s];
  }
  /** CSS-pixel transform: screen = origin + image * scale */
  function transform() {
    const { w, h: hh } = layout();
    const [ax, ay] = aspect();
    const g = geom();
    const fit = Math.min(w / (g.columns * ax), hh / (g.rows * ay));
    const sx = fit * st.zoom * ax, sy = fit * st.zoom * ay;
    const ox = w / 2 - (g.columns / 2 - st.pan[0]) * sx, oy = hh / 2 - (g.rows / 2 - st.pan[1]) * sy;
    return { sx, sy, ox, oy, w, h: hh };
  }
  function toImage(evt) {
    const r = stage.getBoundingClientRect();
    const t = transform();
    return [(evt.clientX - r.left - t.ox) / t.sx, (evt.clientY - r.top - t.oy) / t.sy];
  }
  function rescaleOf(k) { return (m.rescale && m.rescale[k]) || [1, 0]; }

  // ---- painting ----
  function schedule() { if (!raf) raf = requestAnimationFrame(paint); }
  function paint() {
    raf = 0;
    if (!m) return;
    const t0 = performance.now();
    const k = cur();
    const axial = plane === "axial";
    const values = viewValues();
    const t = transform();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr * t.sx, 0, 0, dpr * t.sy, dpr * t.ox, dpr * t.oy);
    ctx.imageSmoothingEnabled = st.zoom < 2;
    let tier = "";
    if (values) {
      if (frameDirty || paintedFrame !== k || paintedTier !== "lossless" || !axial) {
        const [slope, intercept] = rescaleOf(axial ? k : 0);
        const range = m.kind !== "grey" ? null : FULL_RANGE[m.dtype] || (axial ? store.range(k) : rangeOf(values));
        paintValues(imageData, values, range, geom(),
          { center: st.center, width: st.width, fn: st.fn, invert: !!model.get("invert") !== !!m.invert, slope, intercept }, store.palette);
        octx.putImageData(imageData, 0, 0);
      }
      ctx.drawImage(offscreen, 0, 0);
      tier = "lossless";
    } else if (axial && store && store.previews[k]) {
      ctx.drawImage(store.previews[k], 0, 0, m.columns, m.rows);
      tier = "preview";
    }
    frameDirty = false;
    paintedFrame = k; paintedTier = tier;
    drawMarks(t);
    updateText(t, tier);
    root.dataset.paintMs = (performance.now() - t0).toFixed(2); // work per painted frame (benchmarks)
    root.dispatchEvent(new CustomEvent("rr-paint", { detail: { frame: k, plane, tier } })); // for what a host draws over the image
  }

  function updateText(t, tier) {
    root.dataset.series = m.uid;
    const g = geom(), k = cur();
    root.dataset.frame = String(k);
    root.dataset.frames = String(g.count);
    root.dataset.plane = plane;
    root.dataset.windowCenter = String(Math.round(st.center * 100) / 100);
    root.dataset.windowWidth = String(Math.round(st.width * 100) / 100);
    root.dataset.tier = tier || "loading";
    showLoading();
    root.dataset.transport = transport.mode;
    root.dataset.playing = String(st.playing);
    root.dataset.zoom = String(Math.round(st.zoom * 1000) / 1000);
    root.dataset.pan = st.pan.map((v) => Math.round(v * 10) / 10).join(",");  // live, while a drag is still going
    root.dataset.overlay = st.overlay ? "shown" : "hidden";
    root.dataset.invert = String(!!model.get("invert"));
    slider.max = String(g.count - 1);
    slider.value = String(k);
    slider.setAttribute("aria-valuetext", `${plane} frame ${k + 1} of ${g.count}`);
    corners.tl.textContent = [m.modality, m.description, m.body_part].filter(Boolean).join("  ");
    corners.tr.textContent = `${{ axial: "Im", coronal: "Cor", sagittal: "Sag" }[plane]} ${k + 1}/${g.count}${tier === "preview" ? "\npreview" : tier ? "" : "\nloading"}`;
    const inverted = model.get("invert") ? "inverted" : "";
    corners.bl.textContent = m.kind === "grey" ? `W ${Math.round(st.width)} L ${Math.round(st.center)}  ${inverted}`.trim() : inverted;
    invertButton.setAttribute("aria-pressed", String(!!model.get("invert")));
    corners.br.textContent = `zoom ${Math.round(st.zoom * 100)}%`;
    const e = m.edge_labels;
    const labels = !e || plane === "axial" ? e : plane === "coronal" ? { left: e.left, right: e.right, top: "H", bottom: "F" } : { left: e.top, right: e.bottom, top: "H", bottom: "F" };
    const pos = { left: [6, t.h / 2 - 8], right: [t.w - 22, t.h / 2 - 8], top: [t.w / 2 - 4, 20], bottom: [t.w / 2 - 4, t.h - 40] };
    for (const side of Object.keys(orient)) {
      orient[side].textContent = labels ? labels[side] : "";
      orient[side].style.left = `${pos[side][0]}px`; orient[side].style.top = `${pos[side][1]}px`;
    }
    if (g.pixel_spacing) {
      const mmPerCss = g.pixel_spacing[1] / t.sx;
      const mm = niceLength((t.w / 5) * mmPerCss);
      scaleBar.style.display = "";
      scaleBar.style.width = `${mm / mmPerCss}px`;
      scaleLabel.textContent = `${mm} mm${m.detector_plane ? " (detector)" : ""}`;
    } else scaleBar.style.display = "none";
  }

  /** data-loaded (frames viewable at any quality), data-lossless (at full quality) and the bar showing both. */
  function showLoading() {
    const loaded = store ? store.loaded : 0, lossless = store ? store.lossless : 0, n = m ? m.count : 1;
    root.dataset.loaded = String(loaded);
    root.dataset.lossless = String(lossless);
    loadedBar.style.width = `${(100 * loaded) / n}%`;
    losslessBar.style.width = `${(100 * lossless) / n}%`;
    loadBar.title = `${loaded} of ${n} frames viewable, ${lossless} at full quality`;
    if (lossless === n) root.dataset.complete = ""; else delete root.dataset.complete;
  }

  function visibleAnnotations() {
    if (!model.get("show_annotations") || plane !== "axial") return [];
    const hidden = new Set(model.get("hidden_groups") || []);
    return (model.get("annotations") || []).filter((a) => (a.frame === null || a.frame === undefined || a.frame === st.frame) && !hidden.has(a.group || ""));
  }

  function describe(a) {
    if (a.kind === "length") return formatLength(segmentLength(geom(), a.points[0], a.points[1]));
    const values = viewValues();
    if (a.kind === "ellipse" && values && m.kind === "grey") {
      const [slope, intercept] = rescaleOf(plane === "axial" ? st.frame : 0);
      const s = ellipseStats(values, geom(), slope, intercept, a.points[0], a.points[1]);
      if (!s) return a.text || "";
      const u = m.units ? ` ${m.units}` : "";
      return `mean ${s.mean.toFixed(1)}${u} SD ${s.sd.toFixed(1)} min ${s.min.toFixed(0)} max ${s.max.toFixed(0)} (${s.n} px)`;
    }
    return a.text || "";
  }

  function drawMarks(t) {
    const dpr = window.devicePixelRatio || 1;
    mctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    mctx.clearRect(0, 0, marks.width, marks.height);
    const P = (p) => [t.ox + p[0] * t.sx, t.oy + p[1] * t.sy];
    const items = visibleAnnotations();
    root.dataset.annotations = String(items.length); // how many are drawn on this frame
    if (draft) items.push(draft);
    if (crosshair) {
      const [cx, cy] = P(crosshair);
      mctx.strokeStyle = "#4a9eff"; mctx.lineWidth = 1;
      mctx.beginPath(); mctx.moveTo(cx - 12, cy); mctx.lineTo(cx + 12, cy); mctx.moveTo(cx, cy - 12); mctx.lineTo(cx, cy + 12); mctx.stroke();
    }
    mctx.lineWidth = 2;
    mctx.font = "12px system-ui,sans-serif";
    for (const a of items) {
      mctx.strokeStyle = mctx.fillStyle = a.color || (a.kind === "length" || a.kind === "ellipse" ? "#5fd35f" : "#ffd75e");
      const pts = (a.points || []).map(P);
      mctx.beginPath();
      if ((a.kind === "length" || a.kind === "arrow") && pts.length >= 2) {
        mctx.moveTo(...pts[0]); mctx.lineTo(...pts[1]); mctx.stroke();
        if (a.kind === "arrow") {
          const [x0, y0] = pts[0], [x1, y1] = pts[1], ang = Math.atan2(y1 - y0, x1 - x0);
          mctx.beginPath(); mctx.moveTo(x1, y1);
          mctx.lineTo(x1 - 12 * Math.cos(ang - 0.4), y1 - 12 * Math.sin(ang - 0.4));
          mctx.lineTo(x1 - 12 * Math.cos(ang + 0.4), y1 - 12 * Math.sin(ang + 0.4));
          mctx.closePath(); mctx.fill();
        }
      } else if (a.kind === "ellipse" && pts.length >= 2) {
        mctx.ellipse((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2, Math.abs(pts[1][0] - pts[0][0]) / 2, Math.abs(pts[1][1] - pts[0][1]) / 2, 0, 0, 2 * Math.PI);
        mctx.stroke();
      }
      const label = describe(a);
      if (label && pts.length) {
        const anchor = pts[pts.length - 1];
        mctx.fillText(label, anchor[0] + 6, anchor[1] - 6);
      }
    }
  }

  // ---- state changes ----
  function setFrame(k, save = true) {
    if (!m) return;
    if (plane !== "axial") {
      planeIndex[plane] = Math.max(0, Math.min(geom().count - 1, Math.round(k)));
      if (save) put("plane_index", planeIndex[plane]);
      schedule();
      return;
    }
    k = Math.max(0, Math.min(m.count - 1, Math.round(k)));
    if (k === st.frame && paintedFrame === k) return;
    st.frame = k;
    if (store) store.want(k);
    frameDirty = true;
    schedule();
    if (save) saveFrame();
  }
  function setWindow(center, width, save = true) {
    st.center = center; st.width = Math.max(1, width); st.fn = "LINEAR";
    frameDirty = true; schedule();
    if (save) saveWindow();
  }
  function applyPreset(p) { if (p) setWindow(p.center, p.width); }
  function defaultWindow() { const w = m.windows[0]; st.fn = w.function || "LINEAR"; st.center = w.center; st.width = w.width; frameDirty = true; schedule(); saveWindow(); }
  function setTool(name) {
    if (crosshair) endCrosshair();
    if (clicking) cancelDraft();
    st.tool = name;
    for (const [n, b] of Object.entries(toolButtons)) b.setAttribute("aria-pressed", String(n === name));
    root.dataset.tool = name;
    steps.replaceChildren(...(STEPS[name] || []).map(([label, key, action, sign]) => {
      const b = h("button", { type: "button", "aria-label": label, title: `${label} (${key})`, text: STEP_SYMBOLS[label] });
      b.addEventListener("click", () => step(action, sign));
      return b;
    }));
  }
  /** One step of what a drag does: level or width by a tenth of the width, pan by a tenth of the view, zoom by 1.25. */
  function step(action, sign) {
    if (!m) return;
    if (action === "level" && m.kind === "grey") setWindow(st.center + sign * Math.max(1, st.width / 10), st.width);
    else if (action === "width" && m.kind === "grey") setWindow(st.center, sign > 0 ? st.width * 1.25 : st.width / 1.25);
    else if (action === "zoom") zoomAt(sign > 0 ? 1.25 : 0.8);
    else if (action === "panX" || action === "panY") {
      const g = geom(), i = action === "panX" ? 0 : 1;
      st.pan[i] += sign * (i ? g.rows : g.columns) / (10 * st.zoom);
      st.pan = [...st.pan]; schedule(); saveView();
    }
  }
  function setOverlay(v, save = true) {
    st.overlay = v; overlayButton.setAttribute("aria-pressed", String(v)); schedule();
    if (save) keep("show_overlay", v);
  }
  function fit() { st.zoom = 1; st.pan = [0, 0]; schedule(); saveView(); }
  function invert(v) { keep("invert", v); }
  function reset() { fit(); defaultWindow(); invert(false); }
  function toggleAnnotations() { keep("show_annotations", !model.get("show_annotations")); schedule(); }
  function zoomAt(factor, evt) {
    const before = evt ? toImage(evt) : null;
    st.zoom = Math.max(0.1, Math.min(40, st.zoom * factor));
    if (before) { const after = toImage(evt); st.pan[0] += after[0] - before[0]; st.pan[1] += after[1] - before[1]; }
    schedule(); saveView();
  }

  // ---- cine ----
  let cineLast = 0;
  function cineTick(now) {
    if (!st.playing) return;
    const fps = Math.max(1, Math.min(60, Number(fpsInput.value) || 10));
    if (now - cineLast >= 1000 / fps) { cineLast = now; setFrame((cur() + 1) % geom().count, false); }
    requestAnimationFrame(cineTick);
  }
  function setPlaying(v) {
    if (!m || m.count < 2) v = false;
    st.playing = v;
    playButton.setAttribute("aria-pressed", String(v));
    playButton.textContent = v ? "Pause" : "Play";
    playButton.setAttribute("aria-label", v ? "Pause cine" : "Play cine");
    root.dataset.playing = String(v);
    if (v) { cineLast = performance.now(); requestAnimationFrame(cineTick); } else saveFrame();
  }

  // ---- input ----
  let wheelAcc = 0;
  function onWheel(evt) {
    if (!m) return;
    evt.preventDefault();
    if (evt.ctrlKey || evt.metaKey) { zoomAt(Math.exp(-evt.deltaY / 300), evt); return; }
    const d = evt.deltaMode === 1 ? evt.deltaY * 40 : evt.deltaY;
    if (Math.abs(d) >= 40) { wheelAcc = 0; setFrame(cur() + Math.sign(d)); return; }
    wheelAcc += d;
    if (Math.abs(wheelAcc) >= 40) { setFrame(cur() + Math.sign(wheelAcc)); wheelAcc = 0; }
  }

  let drag = null;
  // Touch: one finger scrolls frames; two fingers pinch-zoom around their centre (and pan with it).
  const touches = new Map(); // pointerId -> [clientX, clientY]
  function pinchGeometry() {
    const [[x0, y0], [x1, y1]] = [...touches.values()];
    return { dist: Math.max(1, Math.hypot(x1 - x0, y1 - y0)), centre: { clientX: (x0 + x1) / 2, clientY: (y0 + y1) / 2 } };
  }
  function startPinch() {
    if (drag && drag.tool === "scroll") setFrame(drag.frame); // the first finger was not a swipe
    const p = pinchGeometry();
    drag = { tool: "pinch", dist: p.dist, zoom: st.zoom, anchor: toImage(p.centre) };
  }
  function movePinch() {
    const p = pinchGeometry();
    st.zoom = Math.max(0.1, Math.min(40, drag.zoom * p.dist / drag.dist));
    const at = toImage(p.centre); // keep the image point first under the centre under it now
    st.pan[0] += at[0] - drag.anchor[0]; st.pan[1] += at[1] - drag.anchor[1];
    schedule(); saveView();
  }
  function onDown(evt) {
    if (!m) return;
    root.focus({ preventScroll: true });
    stage.setPointerCapture(evt.pointerId);
    if (evt.pointerType === "touch") {
      touches.set(evt.pointerId, [evt.clientX, evt.clientY]);
      if (touches.size === 2) startPinch();
      if (touches.size >= 2) return;
    }
    const measuring = MEASURING.has(st.tool) && evt.button === 0 && !evt.shiftKey;
    const tool = measuring ? st.tool : evt.pointerType === "touch" ? "scroll" : evt.button === 1 || evt.shiftKey ? "pan" : evt.button === 2 ? "zoom" : st.tool;
    drag = { tool, x: evt.clientX, y: evt.clientY, center: st.center, width: st.width, zoom: st.zoom, pan: [...st.pan], frame: cur(), start: toImage(evt) };
    if (measuring && !clicking) draft = { kind: tool, frame: plane === "axial" ? st.frame : null, plane, points: [drag.start, drag.start], group: "measurements" };
  }
  function onMove(evt) {
    if (!m) return;
    if (touches.has(evt.pointerId)) touches.set(evt.pointerId, [evt.clientX, evt.clientY]);
    if (drag && drag.tool === "pinch") { if (touches.size === 2) movePinch(); return; }
    lastCursor = evt;
    showProbe(evt);
    if (clicking && draft) { draft.points = [draft.points[0], toImage(evt)]; schedule(); } // the second point follows the pointer
    if (!drag) return;
    const dx = evt.clientX - drag.x, dy = evt.clientY - drag.y;
    if (drag.tool === "window" && m.kind === "grey") {
      const k = Math.max(drag.width, 10) / 256;
      setWindow(drag.center + dy * k, Math.max(1, drag.width + dx * k));
    } else if (drag.tool === "pan") {
      const t = transform();
      st.pan = [drag.pan[0] + dx / t.sx, drag.pan[1] + dy / t.sy]; schedule(); saveView();
    } else if (drag.tool === "zoom") {
      st.zoom = Math.max(0.1, Math.min(40, drag.zoom * Math.exp(-dy / 150))); schedule(); saveView();
    } else if (drag.tool === "scroll") {
      setFrame(drag.frame + Math.round(-dy / 12));
    } else if (draft) {
      draft.points = [drag.start, toImage(evt)]; schedule();
    }
  }
  function onUp(evt) {
    touches.delete(evt.pointerId);
    if (drag && drag.tool === "pinch") { drag = null; return; } // lift both fingers before the next gesture
    if (!drag) return;
    const d = drag; drag = null;
    if (!draft) return;
    const click = Math.hypot(evt.clientX - d.x, evt.clientY - d.y) < CLICK_SLOP;
    if (click && !clicking) { // single pointer: this click placed the first point; the next places the second
      clicking = true;
      root.dataset.measuring = "second-point";
      readout.textContent = "First point placed: click the second (Escape cancels)";
      return;
    }
    if (clicking) draft.points = [draft.points[0], toImage(evt)];
    clicking = false;
    delete root.dataset.measuring;
    commitDraft();
  }
  function cancelDraft() { draft = null; clicking = false; delete root.dataset.measuring; schedule(); }
  /** Keep the measurement being drawn (mouse or keyboard): announce it, and save it on the acquired plane. */
  function commitDraft() {
    const a = draft; draft = null;
    const [p0, p1] = a.points;
    if (Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) >= 1) {
      a.points = a.points.map((p) => [Math.round(p[0] * 100) / 100, Math.round(p[1] * 100) / 100]);
      readout.textContent = `${a.kind === "length" ? "Length" : "ROI"}: ${describe(a)}`;
      if (a.plane === "axial") {
        delete a.plane;
        keep("annotations", [...(model.get("annotations") || []), a]);
      }
    }
    schedule();
  }

  // ---- measuring by keyboard ----
  function showCrosshair() {
    root.dataset.crosshair = crosshair.join(",");
    probeAt(crosshair);
    if (draft) draft.points = [draft.points[0], [...crosshair]];
    schedule();
  }
  function endCrosshair() {
    crosshair = null; draft = null;
    delete root.dataset.crosshair;
    schedule();
  }
  /** Enter with a measuring tool: show the crosshair, then place the first point, then the second. */
  function crosshairEnter() {
    const what = st.tool === "length" ? "length" : "ellipse";
    if (!crosshair) {
      const g = geom();
      crosshair = [Math.floor(g.columns / 2), Math.floor(g.rows / 2)];
      readout.textContent = `Measuring ${what} by keyboard: arrows move the crosshair, Shift+arrows 10 px, Enter places the first point, Escape ends`;
    } else if (!draft) {
      draft = { kind: st.tool, frame: plane === "axial" ? st.frame : null, plane, points: [[...crosshair], [...crosshair]], group: "measurements" };
      readout.textContent = `First point at (${crosshair.join(", ")}): move to the second and press Enter`;
    } else {
      draft.points = [draft.points[0], [...crosshair]];
      commitDraft();
      crosshair = null;
      delete root.dataset.crosshair;
      return;
    }
    showCrosshair();
  }
  function moveCrosshair([dx, dy], big) {
    const g = geom(), n = big ? 10 : 1;
    crosshair = [Math.max(0, Math.min(g.columns - 1, crosshair[0] + dx * n)), Math.max(0, Math.min(g.rows - 1, crosshair[1] + dy * n))];
    showCrosshair();
  }
  function showProbe(evt) { probeAt(toImage(evt)); }
  function probeAt([x, y]) {
    const c = Math.floor(x), r = Math.floor(y);
    const values = viewValues();
    const g = geom();
    if (!values || c < 0 || r < 0 || c >= g.columns || r >= g.rows) { probe.textContent = ""; delete root.dataset.probe; return; }
    const i = r * g.columns + c;
    let text;
    if (m.kind === "rgb") text = `RGB ${values[i * 3]} ${values[i * 3 + 1]} ${values[i * 3 + 2]}`;
    else {
      const [slope, intercept] = rescaleOf(plane === "axial" ? st.frame : 0);
      const v = values[i] * slope + intercept;
      text = `${m.units || "value"} ${Number.isInteger(v) ? v : v.toFixed(2)}`;
      root.dataset.probe = String(v);
    }
    probe.textContent = `(${c}, ${r}) ${text}`;
  }
  function onKey(evt) {
    if (!m || evt.target instanceof HTMLInputElement || evt.target instanceof HTMLSelectElement) return;
    const k = evt.key;
    const frameStep = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10 }[k];
    let handled = true;
    const arrow = { ArrowLeft: ["panX", -1], ArrowRight: ["panX", 1], ArrowUp: ["panY", -1], ArrowDown: ["panY", 1] }[k];
    const windowKey = { ArrowDown: ["level", -1], ArrowUp: ["level", 1], ArrowLeft: ["width", -1], ArrowRight: ["width", 1] }[k];
    if (crosshair && CROSSHAIR_MOVES[k]) moveCrosshair(CROSSHAIR_MOVES[k], evt.shiftKey);
    else if (arrow && st.tool === "pan" && !evt.shiftKey) step(...arrow);
    else if (windowKey && st.tool === "window" && evt.shiftKey) step(...windowKey);
    else if (k === "Enter" && evt.target === root && MEASURING.has(st.tool)) crosshairEnter();
    else if (frameStep) setFrame(cur() + frameStep);
    else if (k === "Home") setFrame(0);
    else if (k === "End") setFrame(geom().count - 1);
    else if (k === "x") setPlane("axial");
    else if (k === "c") setPlane("coronal");
    else if (k === "s") setPlane("sagittal");
    else if (/^[1-9]$/.test(k) && m.presets.find((p) => p.key === k)) applyPreset(m.presets.find((p) => p.key === k));
    else if (k === "0") defaultWindow();
    else if (k === "f") fit();
    else if (k === "i") invert(!model.get("invert"));
    else if (k === "r") reset();
    else if (k === "o") setOverlay(!st.overlay);
    else if (k === "a") toggleAnnotations();
    else if (k === " ") setPlaying(!st.playing);
    else if (k === "+" || k === "=") zoomAt(1.25);
    else if (k === "-") zoomAt(0.8);
    else if (k === "Escape") { drag = null; cancelDraft(); if (crosshair) endCrosshair(); }
    else {
      const tool = TOOLS.find((t) => t[2] === k);
      if (tool) setTool(tool[0]); else handled = false;
    }
    if (handled) { evt.preventDefault(); evt.stopPropagation(); }
  }

  // ---- loading a series ----
  function load() {
    const manifest = model.get("_manifest");
    if (!manifest || !manifest.count) return;
    if (store) store.close();
    m = manifest;
    plane = "axial"; mprCache = null; planeIndex.coronal = planeIndex.sagittal = 0;
    planeSelect.value = "axial";
    planeSelect.disabled = !mprAllowed();
    imageData = new ImageData(m.columns, m.rows);
    offscreen.width = m.columns; offscreen.height = m.rows;
    restorePlane();
    const w = model.get("window");
    const first = m.windows[0];
    st.fn = first.function || "LINEAR";
    if (Array.isArray(w) && w.length === 2) { st.center = w[0]; st.width = w[1]; if (w[0] !== first.center || w[1] !== first.width) st.fn = "LINEAR"; }
    else { st.center = first.center; st.width = first.width; }
    st.frame = Math.max(0, Math.min(m.count - 1, model.get("frame") ?? m.start));
    st.zoom = model.get("zoom") || 1;
    st.pan = [...(model.get("pan") || [0, 0])];
    setOverlay(model.get("show_overlay") !== false, false);
    presetSelect.replaceChildren(h("option", { value: "", text: "Window preset" }),
      h("option", { value: "0", text: "0 · Image default" }),
      ...m.presets.map((p) => h("option", { value: p.key, text: `${p.key} · ${p.label}` })));
    presetSelect.disabled = m.kind !== "grey";
    const list = model.get("_series_list") || [];
    seriesSelect.replaceChildren(...list.map((s, i) => h("option", { value: String(i), text: `${s.number ?? i + 1}: ${s.modality} ${s.description} (${s.count})` })));
    seriesSelect.value = String(model.get("series") || 0);
    seriesSelect.hidden = list.length < 2;
    fpsInput.value = String(Math.round(m.frame_rate || 10));
    playButton.disabled = m.count < 2;
    slider.max = String(m.count - 1);
    paintedFrame = -1; frameDirty = true;
    store = new FrameStore(m, transport, (k) => {
      if (k === st.frame || plane !== "axial") { frameDirty = true; schedule(); if (lastCursor) showProbe(lastCursor); } else showLoading();
    });
    store.start(st.frame).catch((e) => console.warn(String(e)));
    schedule();
  }

  // For automation and accessibility tools: where image pixel (x, y) is on screen.
  // For automation: every declared field as this host's model holds it.
  root.rrView = () => Object.fromEntries(Object.keys(VIEW_DEFAULTS).map((k) => [k, model.get(k)]));
  root.rrPixel = (x, y) => {  // grey level painted at a client point
    const r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    return ctx.getImageData(Math.floor((x - r.left) * dpr), Math.floor((y - r.top) * dpr), 1, 1).data[0];
  };
  root.imageToClient = (x, y) => {
    const r = stage.getBoundingClientRect(), t = transform();
    return [r.left + t.ox + x * t.sx, r.top + t.oy + y * t.sy];
  };

  // ---- wiring ----
  const listeners = [];
  const on = (target, type, fn, opts) => { target.addEventListener(type, fn, opts); listeners.push(() => target.removeEventListener(type, fn, opts)); };
  on(stage, "wheel", onWheel, { passive: false });
  on(stage, "pointerdown", onDown);
  on(stage, "pointermove", onMove);
  on(stage, "pointerup", onUp);
  on(stage, "pointercancel", onUp);
  on(stage, "pointerleave", () => { probe.textContent = ""; });
  on(stage, "contextmenu", (e) => e.preventDefault());
  on(root, "keydown", onKey);
  // Leaving the viewer (clicking elsewhere, tabbing out) tells the kernel the view at once.
  on(root, "focusout", (evt) => { if (!root.contains(evt.relatedTarget)) settle.flush(); });
  on(slider, "input", () => setFrame(Number(slider.value)));
  on(planeSelect, "change", () => setPlane(planeSelect.value));
  on(presetSelect, "change", () => {
    const v = presetSelect.value;
    if (v === "0") defaultWindow(); else applyPreset(m.presets.find((p) => p.key === v));
    presetSelect.value = "";
  });
  on(seriesSelect, "change", () => { model.set("series", Number(seriesSelect.value)); model.save_changes(); });
  for (const [name, b] of Object.entries(toolButtons)) on(b, "click", () => setTool(name));
  on(fitButton, "click", fit);
  on(invertButton, "click", () => invert(!model.get("invert")));
  on(resetButton, "click", reset);
  on(overlayButton, "click", () => setOverlay(!st.overlay));
  on(annotationsButton, "click", toggleAnnotations);
  on(playButton, "click", () => setPlaying(!st.playing));
  const resize = new ResizeObserver(() => schedule());
  resize.observe(stage);

  const modelHandlers = {
    "change:_manifest": load,
    "change:frame": () => { const k = model.get("frame"); if (k !== st.frame) setFrame(k, false); },
    "change:plane": restorePlane,
    "change:plane_index": restorePlane,
    "change:window": () => { const w = model.get("window"); if (Array.isArray(w) && (w[0] !== st.center || w[1] !== st.width)) setWindow(w[0], w[1], false); },
    "change:zoom": () => { st.zoom = model.get("zoom") || 1; schedule(); },
    "change:pan": () => { st.pan = [...(model.get("pan") || [0, 0])]; schedule(); },
    "change:invert": () => { frameDirty = true; schedule(); },
    "change:show_overlay": () => setOverlay(model.get("show_overlay") !== false, false),
    "change:annotations": schedule,
    "change:show_annotations": () => { annotationsButton.setAttribute("aria-pressed", String(!!model.get("show_annotations"))); schedule(); },
    "change:hidden_groups": schedule,
  };
  for (const [ev, fn] of Object.entries(modelHandlers)) model.on(ev, fn);
  setTool("window");
  load();

  return () => {
    st.playing = false;
    if (store) store.close();
    transport.close();
    resize.disconnect();
    settle.cancel();
    listeners.forEach((off) => off());
    for (const [ev, fn] of Object.entries(modelHandlers)) model.off(ev, fn);
    root.remove();
  };
}

export default { render };

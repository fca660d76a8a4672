// readingroom DICOM viewer: one ES module for every host (anywidget, case page, conference
// presenter and follower). The host passes a model with get/set/on/off/save_changes; everything
// a user does runs here without a kernel round trip, on the lossless frames, and only small
// view state is saved. This module lays out the viewer, paints, scrolls and routes input; each
// tool is a part of its own (viewer_*.js) that owns its state and writes to the one model.

import { Transport, paintValues } from "./core.js";
import { debounce, ensureStyle, h } from "./dom.js";
import { FrameStore } from "./stack_loader.js";
import { VIEW_DEFAULTS } from "./view_state.js";
import { annotationsLayer } from "./viewer_annotations.js";
import { cine } from "./viewer_cine.js";
import { MEASURING, measureTool } from "./viewer_measure.js";
import { overlay } from "./viewer_overlay.js";
import { panZoomTool } from "./viewer_panzoom.js";
import { reformats } from "./viewer_reformat.js";
import { windowTool } from "./viewer_window.js";

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
const MEASURE_HINT = "; click the two points, or Enter: crosshair, arrows move it (Shift: 10 px), Enter places each point, Escape ends";
const FRAME_KEYS = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10 };

/**
 * What the parts share: the model, the elements, the series on screen and the viewer's services.
 * @typedef {Object} ViewerContext
 */

/** Render the viewer into ``el``; returns the cleanup function. ``loadPlan``: the order frames load in (stack_loader.js's previewsFirst unless a benchmark compares another). */
export function render({ model, el, transport: mode = "probe", loadPlan = undefined }) {
  ensureStyle("rr-viewer-css", CSS);
  // While it has focus the viewer owns the keys (as role="application" says): Notebook 7 reads keys for its
  // shortcuts before the page does, so without this ArrowUp would move the notebook's cursor and "x" cut the cell.
  const root = h("div", { "data-rr-viewer": "", tabindex: "0", role: "application", "aria-label": "DICOM image viewer",
    "data-lm-suppress-shortcuts": "true" });
  const canvas = h("canvas", { "aria-hidden": "true" });
  const marks = h("canvas", { "aria-hidden": "true", class: "rr-marks" });
  const stage = h("div", { class: "rr-stage" }, canvas, marks);
  const probe = h("span", { class: "rr-probe", "aria-live": "off" });
  const readout = h("span", { class: "rr-readout", "aria-live": "polite" });
  const transport = new Transport(model, mode);

  // The model (and every host listening to it: a presenter, a linked viewer) follows each step at
  // once; the kernel is told only where the user stopped (save_changes), not every step on the way.
  const settle = debounce(() => model.save_changes(), 800);
  let frame = 0, tool = "window", store = null, raf = 0, dirty = true, painted = { frame: -1, tier: "" }, lastCursor = null;

  /** @type {ViewerContext} */
  const v = {
    model, root, stage, readout, m: null,
    put(key, value) { model.set(key, value); settle(); },
    keep(key, value) { model.set(key, value); settle.flush(); model.save_changes(); }, // one deliberate act
    schedule() { if (!raf) raf = requestAnimationFrame(paint); },
    repaint() { dirty = true; v.schedule(); },
    get frame() { return frame; },
    get tool() { return tool; },
    get axial() { return planes.axial; },
    get plane() { return planes.plane; },
    get planeShort() { return planes.short; },
    get index() { return planes.axial ? frame : planes.index; },
    get zoom() { return view.zoom; },
    geom: () => planes.geom(),
    edgeLabels: (e) => planes.edgeLabels(e),
    toImage: (evt) => view.toImage(evt),
    viewValues, setFrame, probeAt,
    saveFrame: () => v.put("frame", frame),
    rescale: () => (v.m.rescale && v.m.rescale[planes.axial ? frame : 0]) || [1, 0],
    describe: (a) => measure.describe(a),
    /** The plane changed (``fromModel``: the model named it): a new picture, centred unless the model says where. */
    planeChanged(fromModel) {
      measure.cancel();
      const g = planes.geom();
      image = new ImageData(g.columns, g.rows);
      offscreen.width = g.columns; offscreen.height = g.rows;
      view.recentre(fromModel);
      painted.frame = -1; v.repaint();
    },
  };
  const planes = reformats(v), view = panZoomTool(v), grey = windowTool(v), measure = measureTool(v);
  const notes = annotationsLayer(v, marks), text = overlay(v), player = cine(v);
  const parts = [planes, view, grey, notes, text];

  // ---- controls (all labelled; every one also has a key) ----
  const seriesSelect = h("select", { "aria-label": "Series" });
  const toolButtons = Object.fromEntries(TOOLS.map(([name, label, key]) => [name,
    h("button", { type: "button", "aria-label": label, title: `${label} (${key})${MEASURING.has(name) ? MEASURE_HINT : ""}`, "aria-pressed": "false", "data-tool": name, text: label })]));
  const fitButton = h("button", { type: "button", "aria-label": "Fit", title: "Fit to view (f)", text: "Fit" });
  const resetButton = h("button", { type: "button", "aria-label": "Reset", title: "Reset view (r)", text: "Reset" });
  const slider = h("input", { type: "range", min: "0", max: "0", value: "0", step: "1", class: "rr-slider", "aria-label": "Frame" });
  const bar = h("div", { class: "rr-bar", role: "toolbar", "aria-label": "Viewer tools" },
    seriesSelect, grey.controls, planes.controls, Object.values(toolButtons), fitButton, resetButton,
    text.button, notes.button, player.controls);
  // Every drag has buttons beside it (WCAG 2.5.7), for the active tool.
  const steps = h("div", { class: "rr-steps", role: "group", "aria-label": "Adjust" });
  const stepsOf = { window: grey.steps, pan: view.steps.pan, zoom: view.steps.zoom };
  // A thin bar: how much of the stack can be scrolled (previews), and how much is at full quality.
  const loadedBar = h("span", { class: "rr-loaded" }), losslessBar = h("span", { class: "rr-lossless" });
  const loadBar = h("div", { class: "rr-load", "aria-hidden": "true" }, loadedBar, losslessBar);
  stage.append(...text.elements, loadBar);
  root.append(bar, steps, stage, h("div", { class: "rr-status" }, slider, probe, readout));
  el.append(root);

  const ctx = canvas.getContext("2d");
  const offscreen = document.createElement("canvas");
  const octx = offscreen.getContext("2d");
  let image = null;
  /** The axial frame on screen at full resolution, windowed as shown (a host copies it for a locate question). */
  root.rrAxialImage = () => (planes.axial && painted.tier === "lossless" ? { frame: painted.frame, canvas: offscreen } : null);

  // ---- the stack: frames, scrolling ----
  function setFrame(k, save = true) {
    if (!v.m) return;
    if (!planes.axial) { planes.setIndex(k, save); return; }
    k = Math.max(0, Math.min(v.m.count - 1, Math.round(k)));
    if (k === frame && painted.frame === k) return;
    frame = k;
    if (store) store.want(k);
    v.repaint();
    if (save) v.saveFrame();
  }
  /** Stored values of the slice on screen (the acquired frame, or a reformat of the loaded ones). */
  function viewValues() {
    if (!store) return null;
    return planes.axial ? store.values[frame] : planes.values(store);
  }
  function setTool(name) {
    measure.cancel();
    tool = name;
    for (const [n, b] of Object.entries(toolButtons)) b.setAttribute("aria-pressed", String(n === name));
    root.dataset.tool = name;
    steps.replaceChildren(...(stepsOf[name] || []).map(([label, symbol, key, act]) =>
      h("button", { type: "button", "aria-label": label, title: `${label} (${key})`, text: symbol, onclick: act })));
  }
  function reset() { view.fit(); grey.reset(); }

  // ---- painting ----
  function layout() {
    const r = stage.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr)), hgt = Math.max(1, Math.round(r.height * dpr));
    for (const c of [canvas, marks]) if (c.width !== w || c.height !== hgt) { c.width = w; c.height = hgt; }
  }
  function paint() {
    raf = 0;
    const m = v.m;
    if (!m) return;
    const t0 = performance.now();
    const k = v.index, axial = planes.axial;
    const values = viewValues();
    layout();
    const t = view.transform();
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(dpr * t.sx, 0, 0, dpr * t.sy, dpr * t.ox, dpr * t.oy);
    ctx.imageSmoothingEnabled = view.zoom < 2;
    let tier = "";
    if (values) {
      if (dirty || painted.frame !== k || painted.tier !== "lossless" || !axial) {
        const [slope, intercept] = v.rescale();
        const range = m.kind !== "grey" ? null : FULL_RANGE[m.dtype] || (axial ? store.range(k) : rangeOf(values));
        paintValues(image, values, range, planes.geom(), { ...grey.view, slope, intercept }, store.palette);
        octx.putImageData(image, 0, 0);
      }
      ctx.drawImage(offscreen, 0, 0);
      tier = "lossless";
    } else if (axial && store && store.previews[k]) {
      ctx.drawImage(store.previews[k], 0, 0, m.columns, m.rows);
      tier = "preview";
    }
    dirty = false;
    painted = { frame: k, tier };
    notes.draw(t, measure.draft, measure.crosshair);
    show(t, tier);
    root.dataset.paintMs = (performance.now() - t0).toFixed(2); // work per painted frame (benchmarks)
    root.dispatchEvent(new CustomEvent("rr-paint", { detail: { frame: k, plane: planes.plane, tier } })); // for what a host draws over the image
  }
  /** The root's data-* attributes (for tests and assistive tools), the slider and the overlay. */
  function show(t, tier) {
    const g = planes.geom(), k = v.index;
    Object.assign(root.dataset, { series: v.m.uid, frame: String(k), frames: String(g.count), plane: planes.plane,
      tier: tier || "loading", transport: transport.mode });
    showLoading();
    for (const part of [view, grey, player]) part.show(root);
    slider.max = String(g.count - 1);
    slider.value = String(k);
    slider.setAttribute("aria-valuetext", `${planes.plane} frame ${k + 1} of ${g.count}`);
    text.show(t, tier, grey.label());
  }
  /** data-loaded (frames viewable at any quality), data-lossless (at full quality) and the bar showing both. */
  function showLoading() {
    const loaded = store ? store.loaded : 0, lossless = store ? store.lossless : 0, n = v.m ? v.m.count : 1;
    root.dataset.loaded = String(loaded);
    root.dataset.lossless = String(lossless);
    loadedBar.style.width = `${(100 * loaded) / n}%`;
    losslessBar.style.width = `${(100 * lossless) / n}%`;
    loadBar.title = `${loaded} of ${n} frames viewable, ${lossless} at full quality`;
    if (lossless === n) root.dataset.complete = ""; else delete root.dataset.complete;
  }
  function probeAt([x, y]) {
    const c = Math.floor(x), r = Math.floor(y);
    const values = viewValues();
    const g = planes.geom();
    if (!values || c < 0 || r < 0 || c >= g.columns || r >= g.rows) { probe.textContent = ""; delete root.dataset.probe; return; }
    const i = r * g.columns + c;
    let reading;
    if (v.m.kind === "rgb") reading = `RGB ${values[i * 3]} ${values[i * 3 + 1]} ${values[i * 3 + 2]}`;
    else {
      const [slope, intercept] = v.rescale();
      const value = values[i] * slope + intercept;
      reading = `${v.m.units || "value"} ${Number.isInteger(value) ? value : value.toFixed(2)}`;
      root.dataset.probe = String(value);
    }
    probe.textContent = `(${c}, ${r}) ${reading}`;
  }

  // ---- input: the pointer goes to the active tool (or the one its button or Shift picks) ----
  let wheelAcc = 0;
  function onWheel(evt) {
    if (!v.m) return;
    evt.preventDefault();
    if (evt.ctrlKey || evt.metaKey) { view.wheel(evt); return; }
    const d = evt.deltaMode === 1 ? evt.deltaY * 40 : evt.deltaY;
    if (Math.abs(d) >= 40) { wheelAcc = 0; setFrame(v.index + Math.sign(d)); return; }
    wheelAcc += d;
    if (Math.abs(wheelAcc) >= 40) { setFrame(v.index + Math.sign(wheelAcc)); wheelAcc = 0; }
  }
  let drag = null; // {move, up?} of the gesture in progress
  const touches = new Map(); // pointerId -> [clientX, clientY]: one finger scrolls, two pinch-zoom
  /** One finger on a touch screen scrolls frames (the slider and arrow keys do too). */
  function swipe(evt) {
    const y = evt.clientY, from = v.index;
    return { swipe: from, move(e) { setFrame(from + Math.round(-(e.clientY - y) / 12)); } };
  }
  function press(evt) {
    const measuring = MEASURING.has(tool) && evt.button === 0 && !evt.shiftKey;
    if (measuring) return measure.press(evt, tool);
    if (evt.pointerType === "touch") return swipe(evt);
    if (evt.button === 1 || evt.shiftKey || (evt.button === 0 && tool === "pan")) return view.pressPan(evt);
    if (evt.button === 2 || (evt.button === 0 && tool === "zoom")) return view.pressZoom(evt);
    return grey.press(evt);
  }
  function onDown(evt) {
    if (!v.m) return;
    root.focus({ preventScroll: true });
    stage.setPointerCapture(evt.pointerId);
    if (evt.pointerType === "touch") {
      touches.set(evt.pointerId, [evt.clientX, evt.clientY]);
      if (touches.size === 2) {
        if (drag && drag.swipe !== undefined) setFrame(drag.swipe); // the first finger was not a swipe
        view.pinchStart([...touches.values()]);
        drag = { pinch: true };
      }
      if (touches.size >= 2) return;
    }
    drag = press(evt);
  }
  function onMove(evt) {
    if (!v.m) return;
    if (touches.has(evt.pointerId)) touches.set(evt.pointerId, [evt.clientX, evt.clientY]);
    if (drag && drag.pinch) { if (touches.size === 2) view.pinchMove([...touches.values()]); return; }
    lastCursor = evt;
    probeAt(view.toImage(evt));
    measure.hover(evt);
    if (drag) drag.move(evt);
  }
  function onUp(evt) {
    touches.delete(evt.pointerId);
    const d = drag;
    drag = null; // after a pinch, lift both fingers before the next gesture
    if (d && d.up) d.up(evt);
  }
  function onKey(evt) {
    if (!v.m || evt.target instanceof HTMLInputElement || evt.target instanceof HTMLSelectElement) return;
    const k = evt.key;
    if (k === "Escape") drag = null;
    const handled = measure.key(evt, MEASURING.has(tool))
      || view.key(evt, tool === "pan") || grey.key(evt, tool === "window")
      || planes.key(evt) || text.key(evt) || notes.key(evt) || player.key(evt) || navigate(k);
    if (handled) { evt.preventDefault(); evt.stopPropagation(); }
  }
  /** Frame keys, reset and tool keys. */
  function navigate(k) {
    const picked = TOOLS.find((t) => t[2] === k);
    if (FRAME_KEYS[k]) setFrame(v.index + FRAME_KEYS[k]);
    else if (k === "Home") setFrame(0);
    else if (k === "End") setFrame(planes.geom().count - 1);
    else if (k === "r") reset();
    else if (picked) setTool(picked[0]);
    else return false;
    return true;
  }

  // ---- loading a series ----
  function load() {
    const m = model.get("_manifest");
    if (!m || !m.count) return;
    if (store) store.close();
    v.m = m;
    planes.load();
    image = new ImageData(m.columns, m.rows);
    offscreen.width = m.columns; offscreen.height = m.rows;
    planes.restore();
    grey.load(m);
    frame = Math.max(0, Math.min(m.count - 1, model.get("frame") ?? m.start));
    view.load();
    text.load();
    player.load(m);
    const list = model.get("_series_list") || [];
    seriesSelect.replaceChildren(...list.map((s, i) => h("option", { value: String(i), text: `${s.number ?? i + 1}: ${s.modality} ${s.description} (${s.count})` })));
    seriesSelect.value = String(model.get("series") || 0);
    seriesSelect.hidden = list.length < 2;
    slider.max = String(m.count - 1);
    painted.frame = -1; dirty = true;
    store = new FrameStore(m, transport, (k) => {
      if (k === frame || !planes.axial) { v.repaint(); if (lastCursor) probeAt(view.toImage(lastCursor)); } else showLoading();
    }, loadPlan);
    store.start(frame).catch((e) => console.warn(String(e)));
    v.schedule();
  }

  // For automation and assistive tools: every declared field as this host's model holds it, the grey level
  // painted at a client point, and where image pixel (x, y) is on screen.
  root.rrView = () => Object.fromEntries(Object.keys(VIEW_DEFAULTS).map((k) => [k, model.get(k)]));
  root.rrPixel = (x, y) => {
    const r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    return ctx.getImageData(Math.floor((x - r.left) * dpr), Math.floor((y - r.top) * dpr), 1, 1).data[0];
  };
  root.imageToClient = (x, y) => {
    const r = stage.getBoundingClientRect(), t = view.transform();
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
  on(seriesSelect, "change", () => v.keep("series", Number(seriesSelect.value)));
  for (const [name, b] of Object.entries(toolButtons)) on(b, "click", () => setTool(name));
  on(fitButton, "click", view.fit);
  on(resetButton, "click", reset);
  const resize = new ResizeObserver(() => v.schedule());
  resize.observe(stage);

  const modelHandlers = Object.entries({
    "change:_manifest": load,
    "change:frame": () => { const k = model.get("frame"); if (k !== frame) setFrame(k, false); },
  }).concat(...parts.map((p) => Object.entries(p.modelHandlers)));
  for (const [ev, fn] of modelHandlers) model.on(ev, fn);
  setTool("window");
  load();

  return () => {
    player.stop();
    if (store) store.close();
    transport.close();
    resize.disconnect();
    settle.cancel();
    listeners.forEach((off) => off());
    for (const [ev, fn] of modelHandlers) model.off(ev, fn);
    root.remove();
  };
}

function rangeOf(values) {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) { const x = values[i]; if (x < lo) lo = x; if (x > hi) hi = x; }
  return [lo, hi];
}

export default { render };

// Pan and zoom: where the image sits in the view. Owns zoom and pan (image pixels) and writes them
// to the model; drag, wheel with Ctrl, pinch, steppers, +/- and (with the pan tool) arrows change them.

const clampZoom = (z) => Math.max(0.1, Math.min(40, z));

/** @param {import("./viewer.js").ViewerContext} v */
export function panZoomTool(v) {
  const { model } = v;
  const st = { zoom: 1, pan: [0, 0] };
  const save = () => { v.put("zoom", st.zoom); v.put("pan", [...st.pan]); };
  let pinch = null;

  /** CSS-pixel transform of the plane on screen: screen = origin + image * scale. */
  function transform() {
    const r = v.stage.getBoundingClientRect();
    const g = v.geom();
    const ps = g.pixel_spacing, s = ps ? Math.min(ps[0], ps[1]) : 1;
    const [ax, ay] = ps ? [ps[1] / s, ps[0] / s] : [1, 1];
    const fit = Math.min(r.width / (g.columns * ax), r.height / (g.rows * ay));
    const sx = fit * st.zoom * ax, sy = fit * st.zoom * ay;
    return { sx, sy, ox: r.width / 2 - (g.columns / 2 - st.pan[0]) * sx, oy: r.height / 2 - (g.rows / 2 - st.pan[1]) * sy, w: r.width, h: r.height };
  }
  /** Image pixel under a pointer event (or any {clientX, clientY}). */
  function toImage(evt) {
    const r = v.stage.getBoundingClientRect(), t = transform();
    return [(evt.clientX - r.left - t.ox) / t.sx, (evt.clientY - r.top - t.oy) / t.sy];
  }
  /** Zoom by ``factor``, keeping the image point under ``evt`` (if given) where it is. */
  function zoomAt(factor, evt) {
    const before = evt ? toImage(evt) : null;
    st.zoom = clampZoom(st.zoom * factor);
    if (before) { const after = toImage(evt); st.pan = [st.pan[0] + after[0] - before[0], st.pan[1] + after[1] - before[1]]; }
    v.schedule(); save();
  }
  /** Pan by a tenth of the view along x (0) or y (1). */
  function panStep(axis, sign) {
    const g = v.geom();
    st.pan = [...st.pan];
    st.pan[axis] += sign * (axis ? g.rows : g.columns) / (10 * st.zoom);
    v.schedule(); save();
  }
  function fit() { st.zoom = 1; st.pan = [0, 0]; v.schedule(); save(); }
  const ARROWS = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [1, -1], ArrowDown: [1, 1] };

  return {
    transform, toImage, fit, zoomAt,
    get zoom() { return st.zoom; },
    steps: {
      pan: [["Pan left", "←", "Left", () => panStep(0, -1)], ["Pan right", "→", "Right", () => panStep(0, 1)],
        ["Pan up", "↑", "Up", () => panStep(1, -1)], ["Pan down", "↓", "Down", () => panStep(1, 1)]],
      zoom: [["Zoom out", "−", "-", () => zoomAt(0.8)], ["Zoom in", "+", "+", () => zoomAt(1.25)]],
    },
    load() { st.zoom = model.get("zoom") || 1; st.pan = [...(model.get("pan") || [0, 0])]; },
    /** A new plane is a new picture: centred, or where the model says (a follower's host). */
    recentre(fromModel) {
      st.pan = fromModel ? [...(model.get("pan") || [0, 0])] : [0, 0];
      if (!fromModel) v.put("pan", [0, 0]);
    },
    /** Dragging with the pan tool (or middle button, or Shift) moves the image with the pointer. */
    pressPan(evt) {
      const x = evt.clientX, y = evt.clientY, pan = [...st.pan];
      return { move(e) { const t = transform(); st.pan = [pan[0] + (e.clientX - x) / t.sx, pan[1] + (e.clientY - y) / t.sy]; v.schedule(); save(); } };
    },
    /** Dragging with the zoom tool (or right button): up zooms in. */
    pressZoom(evt) {
      const y = evt.clientY, zoom = st.zoom;
      return { move(e) { st.zoom = clampZoom(zoom * Math.exp(-(e.clientY - y) / 150)); v.schedule(); save(); } };
    },
    /** Two fingers: pinch-zoom around their centre, and pan with it. */
    pinchStart(points) {
      const p = pinchGeometry(points);
      pinch = { dist: p.dist, zoom: st.zoom, anchor: toImage(p.centre) };
    },
    pinchMove(points) {
      const p = pinchGeometry(points);
      st.zoom = clampZoom(pinch.zoom * p.dist / pinch.dist);
      const at = toImage(p.centre); // keep the image point first under the centre under it now
      st.pan = [st.pan[0] + at[0] - pinch.anchor[0], st.pan[1] + at[1] - pinch.anchor[1]];
      v.schedule(); save();
    },
    key(evt, active) {
      const k = evt.key;
      if (active && !evt.shiftKey && ARROWS[k]) panStep(...ARROWS[k]);
      else if (k === "+" || k === "=") zoomAt(1.25);
      else if (k === "-") zoomAt(0.8);
      else if (k === "f") fit();
      else return false;
      return true;
    },
    wheel(evt) { zoomAt(Math.exp(-evt.deltaY / 300), evt); },
    show(root) {
      root.dataset.zoom = String(Math.round(st.zoom * 1000) / 1000);
      root.dataset.pan = st.pan.map((x) => Math.round(x * 10) / 10).join(",");  // live, while a drag is still going
    },
    modelHandlers: {
      "change:zoom": () => { st.zoom = model.get("zoom") || 1; v.schedule(); },
      "change:pan": () => { st.pan = [...(model.get("pan") || [0, 0])]; v.schedule(); },
    },
  };
}

function pinchGeometry(points) {
  const [[x0, y0], [x1, y1]] = points;
  return { dist: Math.max(1, Math.hypot(x1 - x0, y1 - y0)), centre: { clientX: (x0 + x1) / 2, clientY: (y0 + y1) / 2 } };
}

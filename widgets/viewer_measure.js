// Measuring: length (mm, or px without spacing) and ellipse ROI (mean, SD, min, max in modality
// units). A measurement is drawn by a drag, by two clicks, or by keyboard alone (Enter shows a
// crosshair, arrows move it, Enter places each point); kept ones join the model's annotations.

import { ellipseStats, formatLength, segmentLength } from "./core.js";

export const MEASURING = new Set(["length", "ellipse"]);
const CLICK_SLOP = 4; // CSS px a click may wander and still be a click, not a drag
const CROSSHAIR_MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** @param {import("./viewer.js").ViewerContext} v */
export function measureTool(v) {
  const { root, readout } = v;
  let draft = null; // the measurement being drawn
  let clicking = false; // its first point was placed by a click; the next click places the second
  let crosshair = null; // [x, y] image point while measuring by keyboard

  const start = (kind, point) => ({ kind, frame: v.axial ? v.frame : null, plane: v.plane, points: [point, point], group: "measurements" });

  /** Keep the measurement drawn: announce it, and save it on the acquired plane. */
  function commit() {
    const a = draft; draft = null;
    const [p0, p1] = a.points;
    if (Math.hypot(p1[0] - p0[0], p1[1] - p0[1]) >= 1) {
      a.points = a.points.map((p) => [Math.round(p[0] * 100) / 100, Math.round(p[1] * 100) / 100]);
      readout.textContent = `${a.kind === "length" ? "Length" : "ROI"}: ${describe(a)}`;
      if (a.plane === "axial") {
        delete a.plane;
        v.keep("annotations", [...(v.model.get("annotations") || []), a]);
      }
    }
    v.schedule();
  }
  function cancel() {
    draft = null; clicking = false; crosshair = null;
    delete root.dataset.measuring; delete root.dataset.crosshair;
    v.schedule();
  }
  function showCrosshair() {
    root.dataset.crosshair = crosshair.join(",");
    v.probeAt(crosshair);
    if (draft) draft.points = [draft.points[0], [...crosshair]];
    v.schedule();
  }
  /** Enter: show the crosshair, then place the first point, then the second. */
  function enter() {
    if (!crosshair) {
      const g = v.geom();
      crosshair = [Math.floor(g.columns / 2), Math.floor(g.rows / 2)];
      readout.textContent = `Measuring ${v.tool} by keyboard: arrows move the crosshair, Shift+arrows 10 px, Enter places the first point, Escape ends`;
    } else if (!draft) {
      draft = start(v.tool, [...crosshair]);
      readout.textContent = `First point at (${crosshair.join(", ")}): move to the second and press Enter`;
    } else {
      draft.points = [draft.points[0], [...crosshair]];
      commit();
      crosshair = null;
      delete root.dataset.crosshair;
      return;
    }
    showCrosshair();
  }
  function moveCrosshair([dx, dy], big) {
    const g = v.geom(), n = big ? 10 : 1;
    crosshair = [Math.max(0, Math.min(g.columns - 1, crosshair[0] + dx * n)), Math.max(0, Math.min(g.rows - 1, crosshair[1] + dy * n))];
    showCrosshair();
  }
  /** What a measurement reads: its length, or the statistics inside the ellipse. */
  function describe(a) {
    if (a.kind === "length") return formatLength(segmentLength(v.geom(), a.points[0], a.points[1]));
    const values = v.viewValues();
    if (a.kind === "ellipse" && values && v.m.kind === "grey") {
      const [slope, intercept] = v.rescale();
      const s = ellipseStats(values, v.geom(), slope, intercept, a.points[0], a.points[1]);
      if (!s) return a.text || "";
      const u = v.m.units ? ` ${v.m.units}` : "";
      return `mean ${s.mean.toFixed(1)}${u} SD ${s.sd.toFixed(1)} min ${s.min.toFixed(0)} max ${s.max.toFixed(0)} (${s.n} px)`;
    }
    return a.text || "";
  }

  return {
    describe, cancel,
    /** What the marks layer draws for this tool now: the draft, and the crosshair. */
    get draft() { return draft; },
    get crosshair() { return crosshair; },
    /** A press with a measuring tool: a drag draws; a click places a point (two make the measurement). */
    press(evt, kind) {
      const x = evt.clientX, y = evt.clientY;
      if (!clicking) draft = start(kind, v.toImage(evt));
      return {
        move(e) { if (!clicking) { draft.points = [draft.points[0], v.toImage(e)]; v.schedule(); } },
        up(e) {
          const click = Math.hypot(e.clientX - x, e.clientY - y) < CLICK_SLOP;
          if (click && !clicking) {
            clicking = true;
            root.dataset.measuring = "second-point";
            readout.textContent = "First point placed: click the second (Escape cancels)";
            return;
          }
          if (clicking) draft.points = [draft.points[0], v.toImage(e)];
          clicking = false;
          delete root.dataset.measuring;
          commit();
        },
      };
    },
    /** The pointer moving with no button: the second point of a click-click measurement follows it. */
    hover(evt) { if (clicking && draft) { draft.points = [draft.points[0], v.toImage(evt)]; v.schedule(); } },
    key(evt, active) {
      const k = evt.key;
      if (crosshair && CROSSHAIR_MOVES[k]) moveCrosshair(CROSSHAIR_MOVES[k], evt.shiftKey);
      else if (k === "Enter" && active && evt.target === root) enter();
      else if (k === "Escape") cancel();
      else return false;
      return true;
    },
  };
}

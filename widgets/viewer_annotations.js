// Annotations: the author's arrows, ellipses and text, and kept measurements, drawn on the marks
// layer over the image (with the measurement being drawn and the keyboard crosshair). Reads
// annotations, show_annotations and hidden_groups from the model; a toggles them.

import { h } from "./dom.js";

/** @param {import("./viewer.js").ViewerContext} v */
export function annotationsLayer(v, marks) {
  const { model } = v;
  const mctx = marks.getContext("2d");
  const button = h("button", { type: "button", "aria-label": "Annotations", title: "Show/hide annotations (a)", "aria-pressed": "true", text: "Annotations" });
  const toggle = () => { v.keep("show_annotations", !model.get("show_annotations")); v.schedule(); };
  button.addEventListener("click", toggle);

  /** Annotations on the frame on screen (or on every frame), in groups not hidden; none on a reformat. */
  function visible() {
    if (!model.get("show_annotations") || !v.axial) return [];
    const hidden = new Set(model.get("hidden_groups") || []);
    return (model.get("annotations") || []).filter((a) => (a.frame === null || a.frame === undefined || a.frame === v.frame) && !hidden.has(a.group || ""));
  }

  /** Draw everything at transform ``t``; ``draft`` and ``crosshair`` come from the measuring tool. */
  function draw(t, draft, crosshair) {
    const dpr = window.devicePixelRatio || 1;
    mctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    mctx.clearRect(0, 0, marks.width, marks.height);
    const P = (p) => [t.ox + p[0] * t.sx, t.oy + p[1] * t.sy];
    const items = visible();
    v.root.dataset.annotations = String(items.length); // how many are drawn on this frame
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
        if (a.kind === "arrow") arrowHead(mctx, pts[0], pts[1]);
      } else if (a.kind === "ellipse" && pts.length >= 2) {
        mctx.ellipse((pts[0][0] + pts[1][0]) / 2, (pts[0][1] + pts[1][1]) / 2, Math.abs(pts[1][0] - pts[0][0]) / 2, Math.abs(pts[1][1] - pts[0][1]) / 2, 0, 0, 2 * Math.PI);
        mctx.stroke();
      }
      const label = v.describe(a);
      if (label && pts.length) {
        const anchor = pts[pts.length - 1];
        mctx.fillText(label, anchor[0] + 6, anchor[1] - 6);
      }
    }
  }

  return {
    button, draw,
    key(evt) { if (evt.key !== "a") return false; toggle(); return true; },
    modelHandlers: {
      "change:annotations": v.schedule,
      "change:show_annotations": () => { button.setAttribute("aria-pressed", String(!!model.get("show_annotations"))); v.schedule(); },
      "change:hidden_groups": v.schedule,
    },
  };
}

/** The filled head of an arrow from ``tail`` to ``head`` (as Viewer.to_png draws it: 0.4 rad each side). */
function arrowHead(mctx, [x0, y0], [x1, y1]) {
  const ang = Math.atan2(y1 - y0, x1 - x0);
  mctx.beginPath(); mctx.moveTo(x1, y1);
  mctx.lineTo(x1 - 12 * Math.cos(ang - 0.4), y1 - 12 * Math.sin(ang - 0.4));
  mctx.lineTo(x1 - 12 * Math.cos(ang + 0.4), y1 - 12 * Math.sin(ang + 0.4));
  mctx.closePath(); mctx.fill();
}

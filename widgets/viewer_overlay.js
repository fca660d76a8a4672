// The overlay: corner text (series, frame, window, zoom), orientation letters and a scale bar
// over the image. Reads show_overlay from the model; o toggles it.

import { niceLength } from "./core.js";
import { h } from "./dom.js";

/** @param {import("./viewer.js").ViewerContext} v */
export function overlay(v) {
  const { model } = v;
  let shown = true;
  const corners = { tl: h("div", { class: "rr-ov rr-tl" }), tr: h("div", { class: "rr-ov rr-tr" }), bl: h("div", { class: "rr-ov rr-bl" }), br: h("div", { class: "rr-ov rr-br" }) };
  const orient = { left: h("div", { class: "rr-o" }), right: h("div", { class: "rr-o" }), top: h("div", { class: "rr-o" }), bottom: h("div", { class: "rr-o" }) };
  const scaleLabel = h("span");
  const scaleBar = h("div", { class: "rr-scale" }, scaleLabel);
  const button = h("button", { type: "button", "aria-label": "Overlay text", title: "Show/hide overlay (o)", "aria-pressed": "true", text: "Overlay" });

  function set(on, save = true) {
    shown = on;
    button.setAttribute("aria-pressed", String(on));
    v.schedule();
    if (save) v.keep("show_overlay", on);
  }
  button.addEventListener("click", () => set(!shown));

  return {
    button,
    elements: [...Object.values(corners), ...Object.values(orient), scaleBar],
    load() { set(model.get("show_overlay") !== false, false); },
    key(evt) { if (evt.key !== "o") return false; set(!shown); return true; },
    /** Write the overlay for transform ``t``, the tier painted and the window's label. */
    show(t, tier, windowLabel) {
      const m = v.m, g = v.geom(), k = v.index;
      v.root.dataset.overlay = shown ? "shown" : "hidden";
      corners.tl.textContent = [m.modality, m.description, m.body_part].filter(Boolean).join("  ");
      corners.tr.textContent = `${v.planeShort} ${k + 1}/${g.count}${tier === "preview" ? "\npreview" : tier ? "" : "\nloading"}`;
      corners.bl.textContent = windowLabel;
      corners.br.textContent = `zoom ${Math.round(v.zoom * 100)}%`;
      const labels = v.edgeLabels(m.edge_labels);
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
    },
    modelHandlers: { "change:show_overlay": () => set(model.get("show_overlay") !== false, false) },
  };
}

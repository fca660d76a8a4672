// Reformats: the acquired plane, and coronal/sagittal planes rebuilt in the browser from the
// loaded frames of a regular greyscale volume. Owns the plane and the slice shown in it, and
// writes both to the model (plane, plane_index); x, c, s and the Plane menu switch.

import { h } from "./dom.js";

const PLANE_KEYS = { x: "axial", c: "coronal", s: "sagittal" };

/** @param {import("./viewer.js").ViewerContext} v */
export function reformats(v) {
  const { model } = v;
  let plane = "axial";
  const index = { coronal: 0, sagittal: 0 };
  let cache = null; // the reformatted slice last built, while no new frame has arrived
  const select = h("select", { "aria-label": "Plane", title: "Plane: axial (x), coronal (c), sagittal (s)" },
    h("option", { value: "axial", text: "Acquired" }), h("option", { value: "coronal", text: "Coronal" }),
    h("option", { value: "sagittal", text: "Sagittal" }));
  select.addEventListener("change", () => set(select.value));

  function allowed() {
    const m = v.m;
    if (!m || m.kind !== "grey" || !m.regular || m.count < 2 || !m.slice_spacing) return false;
    const [s0, i0] = (m.rescale && m.rescale[0]) || [1, 0];
    return m.rescale.every(([s1, i1]) => s1 === s0 && i1 === i0);
  }
  /** Show plane ``name``; ``save``: the user chose it (the model hears it), else the model named it. */
  function set(name, save = true) {
    const m = v.m;
    if (name !== "axial" && !allowed()) return;
    if (name !== "axial" && plane === "axial") { index.coronal ||= Math.floor(m.rows / 2); index.sagittal ||= Math.floor(m.columns / 2); }
    plane = name;
    select.value = name;
    if (save) { v.put("plane", name); v.put("plane_index", name === "axial" ? null : index[name]); }
    v.planeChanged(!save);
  }
  /** The plane (and reformat slice) the model names (the kernel, or a conference follower's host, set them). */
  function restore() {
    const p = model.get("plane") || "axial", k = model.get("plane_index");
    if (p !== plane) set(p, false);
    if (plane !== "axial" && Number.isInteger(k) && k !== index[plane]) setIndex(k, false);
  }
  function setIndex(k, save = true) {
    index[plane] = Math.max(0, Math.min(geom().count - 1, Math.round(k)));
    if (save) v.put("plane_index", index[plane]);
    v.schedule();
  }
  /** Size, frame count and (row, column) spacing of the plane on screen. */
  function geom() {
    const m = v.m;
    if (plane === "axial") return { rows: m.rows, columns: m.columns, count: m.count, kind: m.kind, pixel_spacing: m.pixel_spacing, detector_plane: m.detector_plane };
    const z = m.slice_spacing, ps = m.pixel_spacing;
    if (plane === "coronal") return { rows: m.count, columns: m.columns, count: m.rows, kind: m.kind, pixel_spacing: ps ? [z, ps[1]] : null, detector_plane: false };
    return { rows: m.count, columns: m.rows, count: m.columns, kind: m.kind, pixel_spacing: ps ? [z, ps[0]] : null, detector_plane: false };
  }
  /** Stored values of reformatted slice on screen, from the lossless frames loaded so far (head at the top). */
  function values(store) {
    const m = v.m, k = index[plane];
    if (cache && cache.plane === plane && cache.k === k && cache.loaded === store.lossless) return cache.values;
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
    cache = { plane, k, loaded: store.lossless, values: out };
    return out;
  }

  return {
    controls: [select], geom, values, setIndex, restore,
    get plane() { return plane; },
    get axial() { return plane === "axial"; },
    get index() { return index[plane]; },
    /** Corner label of the plane: Im, Cor or Sag. */
    get short() { return { axial: "Im", coronal: "Cor", sagittal: "Sag" }[plane]; },
    load() {
      plane = "axial"; cache = null; index.coronal = index.sagittal = 0;
      select.value = "axial";
      select.disabled = !allowed();
    },
    key(evt) {
      if (!PLANE_KEYS[evt.key]) return false;
      set(PLANE_KEYS[evt.key]);
      return true;
    },
    /** Orientation letters at the edges of this plane. */
    edgeLabels(e) {
      if (!e || plane === "axial") return e;
      return plane === "coronal" ? { left: e.left, right: e.right, top: "H", bottom: "F" } : { left: e.top, right: e.bottom, top: "H", bottom: "F" };
    },
    modelHandlers: { "change:plane": restore, "change:plane_index": restore },
  };
}

// Linked scrolling for viewers side by side (prior vs current, pre vs post contrast). When one
// viewer's frame changes, the others move the same distance in mm along their own slice normal,
// counted from where each stood when they were linked (or when its series last changed), so two
// stacks of different thickness or length stay at the same anatomy. All in the browser: no
// kernel round trip per slice. The element is an empty, hidden placeholder in the row.

const REF = "IPY_MODEL_";
const SAVE_AFTER_MS = 800; // the kernel hears where each viewer settled, not every step

function nearest(positions, target) {
  let best = 0;
  for (let i = 1; i < positions.length; i++) {
    if (Math.abs(positions[i] - target) < Math.abs(positions[best] - target)) best = i;
  }
  return best;
}

const positionsOf = (m) => (m.get("_manifest") || {}).positions || null;

export async function render({ model, el }) {
  el.hidden = true;
  const refs = (model.get("viewers") || []).map((ref) => String(ref).slice(REF.length));
  const viewers = await Promise.all(refs.map((id) => model.widget_manager.get_model(id)));
  const anchors = new Map(); // viewer -> its position (mm) when the link last took its bearings
  const saves = new Map();
  const anchorAll = () => viewers.forEach((v) => {
    const p = positionsOf(v);
    anchors.set(v, p ? p[v.get("frame")] ?? null : null);
  });
  const saveSoon = (v) => {
    clearTimeout(saves.get(v));
    saves.set(v, setTimeout(() => v.save_changes(), SAVE_AFTER_MS));
  };
  let moving = false;
  function follow(source) {
    const p = positionsOf(source), from = anchors.get(source);
    if (moving || !p || from === null || from === undefined) return;
    const moved = p[source.get("frame")] - from;
    moving = true;
    try {
      for (const other of viewers) {
        const q = positionsOf(other), at = anchors.get(other);
        if (other === source || !q || at === null || at === undefined) continue;
        const k = nearest(q, at + moved);
        if (k !== other.get("frame")) { other.set("frame", k); saveSoon(other); }
      }
    } finally {
      moving = false;
    }
  }
  anchorAll();
  const offs = viewers.map((v) => {
    const onFrame = () => follow(v);
    v.on("change:frame", onFrame);
    v.on("change:_manifest", anchorAll);
    return () => { v.off("change:frame", onFrame); v.off("change:_manifest", anchorAll); };
  });
  return () => { offs.forEach((off) => off()); saves.forEach((t) => clearTimeout(t)); };
}

export default { render };

// Loads a series' frames in the order a slow link needs: the first image, then a small preview
// of every frame (nearest the slice in view first, several at a time) so the whole stack can be
// scrolled soon, then the lossless tier outwards from the slice in view. Once the user has
// stayed on a slice for a moment, its lossless frame goes before anything else, alone on the link.

import { decodeLossless } from "./core.js";

const PREVIEWS_AT_ONCE = 6; // small JPEGs: enough in flight to hide a long round trip
const LOSSLESS_AT_ONCE = 2; // large blobs: few, so the slice the user stops on is not queued behind many
const DWELL_MS = 300; // on a slice this long: the user is looking at it, not scrolling past

/**
 * What to fetch next, nearest ``focus`` first: [frame, "preview" | "lossless"], or null.
 * ``store`` offers has(k, tier), pending(k, tier), nearest(wanted), inFlight(tier), focus and dwelt.
 */
export function previewsFirst(store) {
  const { focus } = store;
  if (store.dwelt && !store.has(focus, "lossless")) {
    return store.pending(focus, "lossless") ? null : [focus, "lossless"]; // alone: nothing else starts meanwhile
  }
  if (store.inFlight("preview") < PREVIEWS_AT_ONCE) {
    const k = store.nearest((j) => !store.has(j, "preview") && !store.pending(j, "preview"));
    if (k >= 0) return [k, "preview"];
  }
  if (store.inFlight("preview") === 0 && store.inFlight("lossless") < LOSSLESS_AT_ONCE) {
    const k = store.nearest((j) => !store.has(j, "lossless") && !store.pending(j, "lossless"));
    if (k >= 0) return [k, "lossless"];
  }
  return null;
}

/** Frames of one series, at preview or lossless quality, loaded by ``plan`` (previewsFirst unless told). */
export class FrameStore {
  constructor(manifest, transport, onLoad, plan = previewsFirst) {
    this.m = manifest;
    this.count = manifest.count;
    this.transport = transport;
    this.onLoad = onLoad; // (k, tier): a frame arrived
    this.plan = plan;
    this.values = new Array(manifest.count).fill(null);
    this.ranges = new Array(manifest.count).fill(null);
    this.previews = new Array(manifest.count).fill(null);
    this.requests = new Map(); // "p12" | "l12" -> tier, while in flight
    this.failed = new Set(); // tags that could not be loaded: not asked for again
    this.focus = manifest.start || 0;
    this.dwelt = false;
    this.dwell = 0;
    this.loaded = 0; // frames viewable at any quality
    this.lossless = 0; // frames at full quality
    this.palette = null;
    this.closed = false;
  }

  /** Load from ``focus``: its preview alone first (the first image does not share the link), then the plan. */
  async start(focus) {
    this.focus = focus;
    if (this.m.kind === "palette" && this.m.palette) {
      const buf = await this.transport.fetch(this.m.palette, "bin");
      this.palette = await decodeLossless(buf, 1, this.m.palette_size, 3, "uint8");
    }
    await this.load(focus, "preview");
    this.want(this.focus);
  }

  close() { this.closed = true; clearTimeout(this.dwell); }

  /** The user is looking at ``k``: nearer frames go first, and after a moment's stay its lossless frame. */
  want(k) {
    if (k !== this.focus) this.dwelt = false;
    this.focus = k;
    clearTimeout(this.dwell);
    this.dwell = setTimeout(() => { this.dwelt = true; this.pump(); }, DWELL_MS);
    this.pump();
  }

  has(k, tier) { return tier === "lossless" ? !!this.values[k] : !!(this.values[k] || this.previews[k]); }

  /** Asked for already: in flight, or failed (not asked again). */
  pending(k, tier) { const tag = `${tier[0]}${k}`; return this.requests.has(tag) || this.failed.has(tag); }

  inFlight(tier) { let n = 0; for (const t of this.requests.values()) n += t === tier; return n; }

  /** The frame nearest the focus for which ``wanted(k)`` holds, or -1. */
  nearest(wanted) {
    for (let step = 0; step < this.count; step++) {
      for (const k of step ? [this.focus + step, this.focus - step] : [this.focus]) {
        if (k >= 0 && k < this.count && wanted(k)) return k;
      }
    }
    return -1;
  }

  pump() {
    for (let next = this.plan(this); next && !this.closed; next = this.plan(this)) this.load(...next);
  }

  async load(k, tier) {
    const tag = `${tier[0]}${k}`;
    if (this.requests.has(tag) || this.has(k, tier)) return;
    this.requests.set(tag, tier);
    try {
      if (tier === "preview") {
        const buf = await this.transport.fetch(this.m.preview[k], "jpg");
        if (!this.has(k, "preview")) {
          this.previews[k] = await createImageBitmap(new Blob([buf], { type: "image/jpeg" }));
          this.loaded += 1;
        }
      } else {
        const buf = await this.transport.fetch(this.m.lossless[k], "bin");
        const values = await decodeLossless(buf, this.m.rows, this.m.columns, this.m.samples, this.m.dtype);
        if (!this.has(k, "preview")) this.loaded += 1;
        this.values[k] = values;
        this.previews[k] = null;
        this.lossless += 1;
      }
      if (!this.closed) this.onLoad(k, tier);
    } catch (error) {
      this.failed.add(tag);
      console.warn(String(error));
    } finally {
      this.requests.delete(tag);
      if (!this.closed) this.pump();
    }
  }

  /** [min, max] of frame ``k``'s stored values (computed once). */
  range(k) {
    if (!this.ranges[k]) {
      const v = this.values[k];
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < v.length; i++) { const x = v[i]; if (x < lo) lo = x; if (x > hi) hi = x; }
      this.ranges[k] = [lo, hi];
    }
    return this.ranges[k];
  }
}

// Loads a series' frames in the order a slow link needs: the first image, then a small preview
// of every frame (nearest the slice in view first, several at a time) so the whole stack can be
// scrolled soon, then the lossless tier outwards from the slice in view. Once the user has
// stayed on a slice for a moment, its lossless frame goes before anything else, alone on the link.

import { decodeLossless } from "./core.js";

const PREVIEW_REQUESTS = 2; // requests in flight, each for a bundle of previews: enough to hide a long round trip,
const PREVIEWS_PER_REQUEST = 8; // few enough that a slice the user stops on does not wait long behind them
const LOSSLESS_AT_ONCE = 2; // large blobs: few, so the slice the user stops on is not queued behind many
const DWELL_MS = 300; // on a slice this long: the user is looking at it, not scrolling past

/**
 * What to fetch next, nearest ``focus`` first: [frame or frames, "preview" | "lossless"], or null.
 * ``store`` offers has(k, tier), pending(k, tier), nearest(wanted, n), inFlight(tier) (requests), focus and dwelt.
 */
export function previewsFirst(store) {
  const { focus } = store;
  if (store.dwelt && !store.has(focus, "lossless")) {
    return store.pending(focus, "lossless") ? null : [focus, "lossless"]; // alone: nothing else starts meanwhile
  }
  if (store.inFlight("preview") < PREVIEW_REQUESTS) {
    const ks = store.nearest((j) => !store.has(j, "preview") && !store.pending(j, "preview"), PREVIEWS_PER_REQUEST);
    if (ks.length) return [ks, "preview"];
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
    this.requests = new Set(); // "p12" | "l12", while in flight
    this.flying = { preview: 0, lossless: 0 }; // requests in flight (a preview request may carry several frames)
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
    await this.load([focus], "preview");
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

  inFlight(tier) { return this.flying[tier]; }

  /** The frame nearest the focus for which ``wanted(k)`` holds (-1 if none); with ``n``, up to n such frames. */
  nearest(wanted, n = 0) {
    const found = [];
    for (let step = 0; step < this.count && found.length < Math.max(n, 1); step++) {
      for (const k of step ? [this.focus + step, this.focus - step] : [this.focus]) {
        if (k >= 0 && k < this.count && wanted(k) && found.length < Math.max(n, 1)) found.push(k);
      }
    }
    return n ? found : found.length ? found[0] : -1;
  }

  pump() {
    for (let next = this.plan(this); next && !this.closed; next = this.plan(this)) this.load(...next);
  }

  /** Fetch frame(s) ``k`` at ``tier``: previews in one request, a lossless frame alone. */
  async load(k, tier) {
    const ks = [].concat(k).filter((j) => !this.pending(j, tier) && !this.has(j, tier));
    if (!ks.length) return;
    const tags = ks.map((j) => `${tier[0]}${j}`);
    tags.forEach((t) => this.requests.add(t));
    this.flying[tier] += 1;
    try {
      if (tier === "preview") await this.previewsArrived(ks, await this.transport.fetchMany(ks.map((j) => this.m.preview[j]), "jpg"));
      else await this.losslessArrived(ks[0], await this.transport.fetch(this.m.lossless[ks[0]], "bin"));
    } catch (error) {
      tags.forEach((t) => this.failed.add(t));
      console.warn(String(error));
    } finally {
      tags.forEach((t) => this.requests.delete(t));
      this.flying[tier] -= 1;
      if (!this.closed) this.pump();
    }
  }

  async previewsArrived(ks, buffers) {
    for (const [i, k] of ks.entries()) {
      if (!buffers[i]) { this.failed.add(`p${k}`); continue; }
      if (this.has(k, "preview")) continue;
      this.previews[k] = await createImageBitmap(new Blob([buffers[i]], { type: "image/jpeg" }));
      this.loaded += 1;
      if (!this.closed) this.onLoad(k, "preview");
    }
  }

  async losslessArrived(k, buffer) {
    const values = await decodeLossless(buffer, this.m.rows, this.m.columns, this.m.samples, this.m.dtype);
    if (!this.has(k, "preview")) this.loaded += 1;
    this.values[k] = values;
    this.previews[k] = null;
    this.lossless += 1;
    if (!this.closed) this.onLoad(k, "lossless");
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

// readingroom shared core: the host model, frame transport, lossless decoding, windowing, measurements.
// Plain ES module, no dependencies; mirrors readingroom.frames.codec and
// readingroom.dicom.processing so browser and kernel show the same pixels.

/** @typedef {{get(k:string):any, set(k:string,v:any):void, on(e:string,f:Function):void, off(e:string,f:Function):void, save_changes():void, send?(c:any,cb?:any,b?:ArrayBuffer[]):void}} Model */

/** JSON-like data (arrays, plain objects), compared by value; anything else (bytes) by identity. */
const plain = (v) => Array.isArray(v) || (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype);

/**
 * The host model for pages without a kernel (case page, presenter, follower): what anywidget
 * gives the viewer in Jupyter (get, set, change events, save_changes), over a plain object.
 * ``set`` from a module is the user acting; ``apply`` is the host writing state it received
 * (a snapshot, a revealed stage). Both fire ``change:<key>`` for each value that changed, and
 * ``change`` with (key, {applied}) so a host can tell the two apart.
 * @implements {Model}
 */
export class HostModel {
  /** @param {Object} state every field the module reads (hosts start from view_state.js's VIEW_DEFAULTS) */
  constructor(state) {
    this.state = { ...state };
    this.handlers = new Map();
    this.applying = false;
  }

  get(key) { return this.state[key]; }

  set(key, value) {
    const old = this.state[key];
    this.state[key] = value;
    if (old === value || (plain(value) && plain(old) && JSON.stringify(old) === JSON.stringify(value))) return;
    this.trigger(`change:${key}`);
    this.trigger("change", key, { applied: this.applying });
  }

  /** Set ``values`` as the host (not the user) did. */
  apply(values) {
    this.applying = true;
    try { for (const [k, v] of Object.entries(values)) this.set(k, v); } finally { this.applying = false; }
  }

  on(event, f) { this.handlers.set(event, [...(this.handlers.get(event) || []), f]); }

  off(event, f) { this.handlers.set(event, (this.handlers.get(event) || []).filter((g) => g !== f)); }

  trigger(event, ...args) { for (const f of this.handlers.get(event) || []) f(...args); }

  /** The module says the user settled: ``save`` listeners (a host that stores the view) hear it. */
  save_changes() { this.trigger("save"); }
}

const UNSIGNED = { 1: Uint8Array, 2: Uint16Array, 4: Uint32Array };
const TYPED = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array,
};

/** The Jupyter/Voila base URL of this page ("/" on a plain page). */
export function pageBaseUrl() {
  const base = pageConfig().baseUrl || "/";
  return base.endsWith("/") ? base : base + "/";
}

/** The page's host configuration (jupyter-config-data): baseUrl, and frameBundles: false on a static site. */
function pageConfig() {
  const el = document.getElementById("jupyter-config-data");
  try { return (el && JSON.parse(el.textContent || "{}")) || {}; } catch (_) { return {}; }
}

/** Inflate a zlib ("deflate") stream with the browser's own decompressor. */
export async function inflate(buffer) {
  const stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Decode a lossless-tier blob: inflate, un-shuffle bytes, undo the row delta,
 * interleave planes. Returns a typed array of the stored values (H*W*S).
 */
export async function decodeLossless(buffer, rows, columns, samples, dtype) {
  const Typed = TYPED[dtype];
  if (!Typed) throw new Error(`readingroom viewer: unsupported sample type ${dtype}`);
  const size = Typed.BYTES_PER_ELEMENT;
  const raw = await inflate(buffer);
  const n = rows * columns * samples;
  if (raw.length !== n * size) throw new Error(`readingroom viewer: frame has ${raw.length} bytes, expected ${n * size}`);
  const bytes = new Uint8Array(n * size);
  if (size === 1) bytes.set(raw);
  else for (let b = 0; b < size; b++) { const off = b * n; for (let i = 0; i < n; i++) bytes[i * size + b] = raw[off + i]; }
  const planes = new UNSIGNED[size](bytes.buffer); // little-endian hosts (every browser we target)
  for (let p = 0; p < samples; p++) {
    for (let r = 0; r < rows; r++) {
      const start = (p * rows + r) * columns;
      for (let c = 1; c < columns; c++) planes[start + c] += planes[start + c - 1]; // wraps like the encoder
    }
  }
  if (samples === 1) return new Typed(planes.buffer);
  const out = new Typed(n);
  const plane = rows * columns;
  for (let i = 0; i < plane; i++) for (let p = 0; p < samples; p++) out[i * samples + p] = planes[p * plane + i];
  return out;
}

/** Fetches blobs over HTTP from our handler, or over the widget comm when no handler answers. */
export class Transport {
  /** @param {Model} model */
  constructor(model, mode = "probe", base = pageBaseUrl()) {
    this.model = model;
    this.base = base;
    this.mode = mode; // "probe" -> "http" | "comm"
    // whether the server answers frame bundles: unknown until asked, unless the page says it has none
    // (a static site: asking would only log a 404)
    this.bundles = pageConfig().frameBundles === false ? false : null;
    this.waiting = new Map();
    this.onMessage = (msg, buffers) => {
      if (!msg || msg.type !== "frames") return;
      (msg.items || []).forEach(([digest, kind], i) => {
        const key = `${digest}.${kind}`;
        const done = this.waiting.get(key);
        if (!done) return;
        this.waiting.delete(key);
        const buf = buffers && buffers[i];
        if (!buf) done.reject(new Error(`readingroom viewer: kernel has no frame ${key}`));
        else done.resolve(buf instanceof ArrayBuffer ? buf : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      });
    };
    if (model.on) model.on("msg:custom", this.onMessage);
  }

  close() { if (this.model.off) this.model.off("msg:custom", this.onMessage); }

  url(digest, kind) { return `${this.base}readingroom/frames/${digest}.${kind}`; }

  /**
   * Several blobs of one kind: over HTTP in one request (one round trip on a slow link), else one by one.
   * Resolves to an array of ArrayBuffers, null where a blob is missing.
   */
  async fetchMany(digests, kind) {
    if (this.mode !== "http" || digests.length < 2 || this.bundles === false) {
      return Promise.all(digests.map((d) => this.fetch(d, kind).catch(() => null)));
    }
    const response = await fetch(`${this.base}readingroom/frames/bundle/${digests.join(",")}.${kind}`).catch(() => null);
    if (!response || !response.ok) { // a static site (readingroom build) or an offline copy holds single blobs only
      this.bundles = false;
      return this.fetchMany(digests, kind);
    }
    const bytes = await response.arrayBuffer(), view = new DataView(bytes);
    const out = [];
    for (let at = 0; at < bytes.byteLength;) {
      const n = view.getUint32(at);
      out.push(n ? bytes.slice(at + 4, at + 4 + n) : null);
      at += 4 + n;
    }
    return out;
  }

  async fetch(digest, kind) {
    if (this.mode !== "comm") {
      try {
        const response = await fetch(this.url(digest, kind));
        if (response.ok) { this.mode = "http"; return await response.arrayBuffer(); }
      } catch (_) { /* fall through to the comm */ }
      if (this.mode === "http") throw new Error(`readingroom viewer: frame ${digest} not served`);
      if (!this.model.send) throw new Error("readingroom viewer: no frame server and no kernel to ask");
      this.mode = "comm";
    }
    // Frames with the same pixels share a digest (blank slices, repeated clip frames): a second
    // request for a key already asked for shares the first's answer instead of orphaning it.
    const key = `${digest}.${kind}`;
    const asked = this.waiting.get(key);
    if (asked) return asked.promise.then((buffer) => buffer.slice(0));
    const entry = {};
    entry.promise = new Promise((resolve, reject) => Object.assign(entry, { resolve, reject }));
    this.waiting.set(key, entry);
    this.model.send({ type: "frames", want: [[digest, kind]] });
    return entry.promise;
  }
}

/** ``v`` rounded to the nearest integer, halves to even, as numpy's rint (Math.round sends halves up). */
export function rint(v) {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Window a modality value to 0..255 exactly as readingroom.dicom.processing.apply_window
 * (PS3.3 C.11.2.1.2): the same float64 operations in the same order, then rint.
 */
export function windowValue(x, center, width, fn = "LINEAR") {
  let y;
  if (fn === "SIGMOID") y = 1 / (1 + Math.exp((-4 * (x - center)) / width));
  else if (fn === "LINEAR_EXACT") y = Math.min(1, Math.max(0, (x - center) / width + 0.5));
  else if (width === 1) y = x > center - 0.5 ? 1 : 0; // the LINEAR formula degenerates to a step at c - 0.5
  else y = Math.min(1, Math.max(0, (x - (center - 0.5)) / (width - 1) + 0.5));
  return rint(y * 255);
}

const lutCache = new Map();

/** RGBA (as little-endian Uint32) for every stored value in [lo, hi]. */
function greyLut(lo, hi, slope, intercept, center, width, fn, invert) {
  const key = [lo, hi, slope, intercept, center, width, fn, invert].join("|");
  let lut = lutCache.get(key);
  if (lut) return lut;
  if (lutCache.size > 32) lutCache.clear();
  lut = new Uint32Array(hi - lo + 1);
  for (let s = lo; s <= hi; s++) {
    let g = windowValue(s * slope + intercept, center, width, fn);
    if (invert) g = 255 - g;
    lut[s - lo] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
  lutCache.set(key, lut);
  return lut;
}

/**
 * Paint frame values into ``image`` (ImageData of columns x rows).
 * ``view`` = {center, width, fn, invert, slope, intercept}; MONOCHROME1 inversion is
 * folded into ``invert`` by the caller.
 */
export function paintValues(image, values, range, m, view, palette) {
  const out = new Uint32Array(image.data.buffer);
  const n = m.rows * m.columns;
  if (m.kind === "rgb") {
    const inv = view.invert ? 255 : 0;
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      out[i] = 0xff000000 | ((values[j + 2] ^ inv) << 16) | ((values[j + 1] ^ inv) << 8) | (values[j] ^ inv);
    }
    return;
  }
  if (m.kind === "palette" && palette) {
    const inv = view.invert ? 255 : 0;
    for (let i = 0; i < n; i++) {
      const j = values[i] * 3;
      out[i] = 0xff000000 | ((palette[j + 2] ^ inv) << 16) | ((palette[j + 1] ^ inv) << 8) | (palette[j] ^ inv);
    }
    return;
  }
  const [lo, hi] = range;
  if (hi - lo <= 1 << 20) {
    const lut = greyLut(lo, hi, view.slope, view.intercept, view.center, view.width, view.fn, view.invert);
    for (let i = 0; i < n; i++) out[i] = lut[values[i] - lo];
    return;
  }
  for (let i = 0; i < n; i++) {
    let g = windowValue(values[i] * view.slope + view.intercept, view.center, view.width, view.fn);
    if (view.invert) g = 255 - g;
    out[i] = 0xff000000 | (g << 16) | (g << 8) | g;
  }
}

/** Mean, SD, min, max and pixel count of modality values inside an axis-aligned ellipse. */
export function ellipseStats(values, m, slope, intercept, p0, p1) {
  const cx = (p0[0] + p1[0]) / 2, cy = (p0[1] + p1[1]) / 2;
  const rx = Math.abs(p1[0] - p0[0]) / 2, ry = Math.abs(p1[1] - p0[1]) / 2;
  if (rx < 0.5 || ry < 0.5) return null;
  let n = 0, sum = 0, sum2 = 0, lo = Infinity, hi = -Infinity;
  const x0 = Math.max(0, Math.floor(cx - rx)), x1 = Math.min(m.columns - 1, Math.ceil(cx + rx));
  const y0 = Math.max(0, Math.floor(cy - ry)), y1 = Math.min(m.rows - 1, Math.ceil(cy + ry));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
      if (dx * dx + dy * dy > 1) continue;
      const v = values[y * m.columns + x] * slope + intercept;
      n += 1; sum += v; sum2 += v * v;
      if (v < lo) lo = v; if (v > hi) hi = v;
    }
  }
  if (!n) return null;
  const mean = sum / n;
  return { n, mean, sd: Math.sqrt(Math.max(0, sum2 / n - mean * mean)), min: lo, max: hi };
}

/** Length of a segment in mm (or pixels when the spacing is unknown), with a caveat. */
export function segmentLength(m, p0, p1) {
  const dx = p1[0] - p0[0], dy = p1[1] - p0[1];
  if (!m.pixel_spacing) return { value: Math.hypot(dx, dy), unit: "px", note: "no pixel spacing" };
  const [rowSp, colSp] = m.pixel_spacing;
  const mm = Math.hypot(dx * colSp, dy * rowSp);
  return { value: mm, unit: "mm", note: m.detector_plane ? "at detector plane" : "" };
}

export function formatLength(len) {
  const text = `${len.value.toFixed(1)} ${len.unit}`;
  return len.note ? `${text} (${len.note})` : text;
}

/** A round scale-bar length (mm) close to ``target`` mm. */
export function niceLength(target) {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500];
  let best = steps[0];
  for (const s of steps) if (s <= target) best = s;
  return best;
}

// readingroom conference client, shared by the presenter console and the participant page:
// the websocket link (reconnects by itself, measures round trips), the host model the
// viewer module renders from, and the small pieces of page both sides draw (results,
// questions). Plain ES module, no framework: these pages travel over 1-5 Mbit/s links.

import { HostModel } from "./core.js";
import { h as el } from "./dom.js";
import { VIEW_DEFAULTS, VIEW_FIELDS } from "./view_state.js";

const PING_MS = 5000;
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
// The server answers every ping, so this long without a word means the link is dead even when no
// close event came (a half-open connection on a mobile link, or a close handshake that never ends).
const SILENT_MS = 3 * PING_MS;

/** Elements for the pages: the one DOM helper every widget uses. */
export { el };

/** Settings the page handler wrote into ``<script id="rr-conference" type="application/json">``. */
export function pageConfig() {
  return JSON.parse(document.getElementById("rr-conference").textContent);
}

/** ws:// or wss:// URL of this session's socket for a ``token=`` or ``ticket=`` query. */
export function socketUrl(config, query) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${config.base}readingroom/conference/${config.session}/ws?${query}`;
}

/** URL of stage ``k``'s HTML for a ``token=...&case=`` or ``ticket=`` query. */
export function stageUrl(config, k, query) {
  return `${config.base}readingroom/conference/${config.session}/stages/${k}?${query}`;
}

/**
 * One websocket that comes back by itself: after a dropped link it reconnects with
 * backoff and the server's welcome brings the current state (no replay needed).
 * Close codes 4000-4999 are the server's final word (ended, refused): no retry.
 */
export class Link {
  constructor(url, { onMessage, onStatus }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.attempt = 0;
    this.reconnects = 0;
    this.rtt = null;
    this.stopped = false;
    this.timer = setInterval(() => this.tick(), PING_MS);
    this.connect();
  }

  tick() {
    const state = this.socket.readyState;
    if (state !== WebSocket.CONNECTING && Date.now() - this.heard > SILENT_MS) this.drop();
    else this.send({ type: "ping", t: Date.now() });
  }

  /** Give up on a silent socket and reconnect, as if it had closed. */
  drop() {
    const ws = this.socket;
    ws.onclose = null;
    ws.close();
    this.retry();
  }

  retry() {
    const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)] * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.onStatus("reconnecting");
    setTimeout(() => { if (!this.stopped) { this.reconnects += 1; this.connect(); } }, wait);
  }

  connect() {
    const ws = new WebSocket(this.url);
    this.socket = ws;
    this.heard = Date.now();
    this.onStatus("connecting");
    ws.onopen = () => { this.attempt = 0; this.heard = Date.now(); this.onStatus("open"); this.send({ type: "ping", t: Date.now() }); };
    ws.onmessage = (event) => {
      this.heard = Date.now();
      let msg;
      try { msg = JSON.parse(event.data); } catch (_) { return; }
      if (!msg || typeof msg.type !== "string") return;
      if (msg.type === "pong" && typeof msg.t === "number") this.rtt = Date.now() - msg.t;
      this.onMessage(msg);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      if (this.stopped || (event.code >= 4000 && event.code < 5000)) { this.stop(); this.onStatus("closed", event.reason); return; }
      this.retry();
    };
  }

  get open() { return this.socket.readyState === WebSocket.OPEN; }

  /** Send one message; false when the link is down (the caller tells the user). */
  send(msg) {
    if (!this.open) return false;
    this.socket.send(JSON.stringify(msg));
    return true;
  }

  stop() { this.stopped = true; clearInterval(this.timer); this.socket.close(); }
}

/** The host model a conference page's viewer renders from: every declared field, no series yet. */
export function viewModel() {
  return new HostModel({ ...VIEW_DEFAULTS, _manifest: null, _series_list: [] });
}

/**
 * Show ``values`` (from viewerState) in ``model`` as the host: a new series loads once with
 * all of them; otherwise only what changed is set.
 */
export function showView(model, { _manifest, _series_list, ...view }) {
  if (sameSeries(_manifest, model.get("_manifest"))) { model.apply(view); return; }
  Object.assign(model.state, view, { _series_list });
  model.apply({ _manifest });
}

/** Manifests of one series (the agenda arrives afresh with each welcome: compare, not identity). */
function sameSeries(a, b) {
  return !!a && !!b && a.uid === b.uid && a.count === b.count && a.lossless[0] === b.lossless[0];
}

/**
 * What the viewer shows for a snapshot of the protocol's ``view`` (null if its case is not on the
 * agenda): every shared field, the series' own start and window where the snapshot has none.
 */
export function viewerState(view, agenda) {
  const entry = agenda.find((e) => e.case === view.case);
  const manifest = entry && entry.manifests[view.series];
  if (!manifest) return null;
  const shared = Object.fromEntries(VIEW_FIELDS.map((k) => [k, view[k] ?? VIEW_DEFAULTS[k]]));
  shared.frame = view.frame ?? manifest.start ?? 0;
  shared.window = view.window ?? [manifest.windows[0].center, manifest.windows[0].width];
  // In this order: the axial frame before the plane, the plane (which refits the image) before the rest.
  const { frame, plane, plane_index: planeIndex } = shared;
  return { _manifest: manifest, _series_list: entry.series, frame, plane, plane_index: planeIndex, ...shared };
}

/** The protocol's view of what ``model`` shows: the conference's case and stage, and every shared field. */
export function snapshot(model, caseId, stage) {
  return { case: caseId, stage, ...Object.fromEntries(VIEW_FIELDS.map((k) => [k, model.get(k)])) };
}

/** Call ``f`` after every paint of the viewer in ``host`` (the picture moved: redraw what sits on it). */
export function onPaint(host, f) {
  host.querySelector("[data-rr-viewer]").addEventListener("rr-paint", f);
}

/** Image pixel under a client point of the viewer in ``root`` (the inverse of its imageToClient). */
export function clientToImage(root, clientX, clientY) {
  const [x0, y0] = root.imageToClient(0, 0), [x1, y1] = root.imageToClient(1, 1);
  return [(clientX - x0) / (x1 - x0), (clientY - y0) / (y1 - y0)];
}

/** A bar chart of choice-poll counts in plain HTML/CSS; each bar says its count to screen readers. */
export function drawBars(target, poll, counts) {
  const total = counts.reduce((a, b) => a + b, 0);
  const bars = el("ol", { className: "rr-bars" }, ...poll.options.map((label, i) => {
    const n = counts[i] || 0, share = total ? Math.round((100 * n) / total) : 0;
    return el("li", { "data-count": String(n) },
      el("span", { className: "rr-bar-label", textContent: label }),
      el("span", { className: "rr-bar-track" }, el("span", { className: "rr-bar-fill", style: `width:${share}%` })),
      el("span", { className: "rr-bar-count", textContent: `${n} (${share}%)` }));
  }));
  target.replaceChildren(el("p", { className: "rr-total", textContent: `${total} answer${total === 1 ? "" : "s"}` }), bars);
}

/** The Q&A queue in the server's order (unanswered, most upvoted first); ``action(q)`` gives each row its button. */
export function drawQuestions(target, questions, action) {
  target.replaceChildren(...questions.map((q) => el("li",
    { className: q.answered ? "rr-answered" : "", "data-question": String(q.id) },
    el("p", { className: "rr-q-text", textContent: q.text }),
    el("span", { className: "rr-q-meta" },
      el("span", { className: "rr-votes", textContent: `${q.votes} vote${q.votes === 1 ? "" : "s"}` }),
      ` · ${q.by}${q.answered ? " · answered" : ""} `,
      action(q)))));
  if (!questions.length) target.replaceChildren(el("li", { className: "rr-empty", textContent: "No questions yet." }));
}

/** Stage HTML of the current case, fetched in order and kept until the case changes. */
export class Stages {
  constructor(target, url, onStage = () => {}) {
    this.target = target;
    this.url = url; // (k, caseId) => URL of stage k of that case
    this.onStage = onStage; // (stage as the server sent it) => anything else the stage brings
    this.caseId = null;
    this.shown = 0;
    this.queue = Promise.resolve();
  }

  /** Show stages 0..``stage`` of ``caseId``; resolves when they are on the page. */
  show(caseId, stage) {
    if (caseId !== this.caseId || stage >= this.shown) this.queue = this.queue.then(() => this.fetchUpTo(caseId, stage));
    return this.queue;
  }

  /** Show stages 0..``stage`` and no later one (a replay seeking back before a reveal). */
  showOnly(caseId, stage) {
    this.queue = this.queue.then(() => {
      if (caseId !== this.caseId || stage >= this.shown) return this.fetchUpTo(caseId, stage);
      this.target.querySelectorAll(".rr-stage-html").forEach((node) => { if (Number(node.dataset.stage) > stage) node.remove(); });
      this.shown = stage + 1;
      return undefined;
    });
    return this.queue;
  }

  async fetchUpTo(caseId, stage) {
    if (caseId !== this.caseId) { this.caseId = caseId; this.shown = 0; this.target.replaceChildren(); }
    while (this.shown <= stage) {
      const reply = await fetch(this.url(this.shown, caseId));
      if (!reply.ok) {
        const problem = `Stage ${this.shown + 1} could not be loaded (${reply.status}).`;
        this.target.append(el("p", { className: "rr-error", textContent: problem }));
        return;
      }
      const found = await reply.json();
      if (caseId !== this.caseId) return;
      const section = el("section", { className: "rr-stage-html", "data-stage": String(found.number) });
      section.innerHTML = found.html; // rendered server-side from the case notebook, sanitized there (server/sanitize.py)
      this.target.append(section);
      this.shown += 1;
      this.onStage(found);
    }
  }
}

// The case page's widgets without a kernel: the serving app ran the case once and put each
// widget's saved state in the page; here every Viewer, Question and viewer link is mounted
// from it through the same model interface the kernel hosts give (get/set/on/off/
// save_changes/send). Viewers work entirely in the browser; a Question's answer is scored by
// the server, which alone holds the key, or, on a static site (readingroom build) and in a copy
// saved for offline, here against a salted hash of it, the answer and explanation arriving with
// the next stage; an answer checked here is kept for the server's records (outbox.js).

import { render as renderViewer } from "./viewer.js";
import { render as renderQuestion } from "./question.js";
import { render as renderLink } from "./link.js";
import { checkHere } from "./answer_check.js";
import { HostModel } from "./core.js";
import { VIEW_DEFAULTS } from "./view_state.js";

const REF = "IPY_MODEL_";
const config = JSON.parse(document.getElementById("rr-case-page").textContent);
const models = new Map();

/** Bytes saved with a widget's state (a locate question's image), as the kernel hosts give them. */
function restoreBuffers(state, buffers) {
  for (const { path, data } of buffers || []) {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    let target = state;
    for (const key of path.slice(0, -1)) target = target[key];
    target[path[path.length - 1]] = new DataView(bytes.buffer);
  }
  return state;
}

/** A widget's model on this page: its saved state (a viewer's over every declared field's default). */
class StateModel extends HostModel {
  constructor(id, { module, state, buffers, manifests }) {
    const saved = restoreBuffers(structuredClone(state), buffers);
    super(module === "viewer.js" ? { ...VIEW_DEFAULTS, ...saved } : saved);
    this.id = id;
    this.module = module;
    this.widget_manager = { get_model: async (ref) => models.get(ref) };
    if (manifests) { // a viewer: every series was encoded when the case ran, so switching needs no kernel
      this.state._manifest = manifests[this.state.series || 0];
      this.on("change:series", () => this.showSeries(manifests[this.get("series")]));
    }
  }

  /** What a kernel does when the series changes: its manifest, its starting frame and its own window. */
  showSeries(manifest) {
    if (!manifest || manifest === this.get("_manifest")) return;
    const first = manifest.windows[0];
    Object.assign(this.state, { frame: manifest.start, window: [first.center, first.width], plane: "axial", plane_index: null });
    this.apply({ _manifest: manifest });
  }

  emit(msg) { this.trigger("msg:custom", msg); }

  send(msg) {
    if (this.module !== "question.js" || !msg) return;
    if (msg.type === "answer") answer(this, msg.choice);
    else if (msg.type === "retry" && !(this.get("result") || {}).final) {
      this.set("response", null);
      this.set("result", {});
    }
  }
}

function xsrf() {
  const found = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  return found ? decodeURIComponent(found[1]) : "";
}

async function checkOnServer(model, choice) {
  let reply;
  try {
    reply = await fetch(config.answers, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-XSRFToken": xsrf() },
      body: JSON.stringify({ question: model.id, choice }),  // the server counts the attempts
    });
  } catch (_) {
    return checkOffline(model, choice);  // no connection: a copy saved for offline checks it here
  }
  const found = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error(found.error || `the server answered ${reply.status}`);
  return found;
}

let offlineKeys = null;
/** A module saved for offline holds the case's salted keys (the service worker answers from the copy). */
async function checkOffline(model, choice) {
  offlineKeys ||= fetch(config.offline_keys).then((reply) => {
    if (!reply.ok) throw new Error("no connection, and this case is not saved for offline");
    return reply.json();
  }).catch((error) => { offlineKeys = null; throw error; });
  const found = checkInPage(model, choice, await offlineKeys);
  if (found.result.hint) found.result.hint = "Checked on this device with no connection; the explanation needs one.";
  return found;
}

function checkInPage(model, choice, keys) {
  const used = (model.get("attempts_used") || 0) + 1;
  const found = { result: checkHere(keys[model.id], choice, used), attempts_used: used, response: choice };
  keep(model, choice);
  return found;
}

/** An answer checked in the page goes to the readingroom server's records, now or once online. */
function keep(model, choice) {
  if (!window.readingroomOutbox) return;  // a static site built without --server: self-study, nothing recorded
  const module = new URLSearchParams(location.search).get("module");
  window.readingroomOutbox.add({ kind: "answer", case: config.case, question: config.questions.indexOf(model.id),
                                 choice, ...(module ? { module } : {}) });
}

async function answer(model, choice) {
  try {
    const found = config.keys ? checkInPage(model, choice, config.keys) : await checkOnServer(model, choice);
    model.set("attempts_used", found.attempts_used);
    model.set("response", found.response);
    model.set("result", found.result);
  } catch (error) {
    model.emit({ type: "error", message: `Not checked (${error.message}); try again.` });
  }
}

/**
 * A static site's next stage brings the answers of the questions before it: an answered question
 * shows its answer, the feedback on what was chosen and the explanation, as its last attempt would.
 */
function showAnswers(answers) {
  for (const [id, { feedback, ...revealed }] of Object.entries(answers)) {
    const model = models.get(id);
    const result = model && model.get("result");
    if (!result || !Object.keys(result).length) continue;
    const chosen = [model.get("response")].flat().map(String);
    const picked = Object.fromEntries(Object.entries(feedback || {}).filter(([i]) => chosen.includes(i)));
    const { hint: _, ...kept } = result;
    model.set("result", { ...kept, ...revealed, feedback: picked, final: true });
  }
}

/** Rows and columns of widgets (side_by_side) and frame links made with jslink. */
function renderBox({ model, el }) {
  el.classList.add("rr-box", model.module === "vbox" ? "rr-vbox" : "rr-hbox");
  for (const ref of model.get("children") || []) mount(String(ref).slice(REF.length), el);
}

function renderJsLink({ model }) {
  const [[fromRef, fromKey], [toRef, toKey]] = [model.get("source"), model.get("target")];
  const a = models.get(String(fromRef).slice(REF.length)), b = models.get(String(toRef).slice(REF.length));
  if (!a || !b) return;
  const copy = (from, fk, to, tk) => () => { if (from.get(fk) !== to.get(tk)) to.set(tk, from.get(fk)); };
  a.on(`change:${fromKey}`, copy(a, fromKey, b, toKey));
  b.on(`change:${toKey}`, copy(b, toKey, a, fromKey));
}

const RENDERERS = {
  "viewer.js": (args) => renderViewer({ ...args, transport: "http" }),
  "question.js": renderQuestion,
  "link.js": renderLink,
  hbox: renderBox,
  vbox: renderBox,
  jslink: renderJsLink,
};

function mount(id, parent) {
  const model = models.get(id);
  if (!model) return;
  const el = document.createElement("div");
  el.className = "rr-widget-view";
  parent.append(el);
  RENDERERS[model.module]({ model, el });
}

/**
 * What the kernel does for a locate question: its image is the frame its viewer shows, windowed as
 * shown, until the learner answers; once settled, the viewer moves to the frame of the answer.
 */
function followViewer(question, viewer, viewerEl) {
  let shown = JSON.stringify([question.get("_image_info")?.frame, viewer.get("window")]);
  let timer = 0;
  const viewerRoot = () => viewerEl.querySelector("[data-rr-viewer]");
  async function copy() {
    const shot = viewerRoot()?.rrAxialImage?.();
    const result = question.get("result") || {};
    const settled = result.region && shot && shot.frame === result.region.frame;
    if (!shot || (Object.keys(result).length && !settled)) return;
    const key = JSON.stringify([shot.frame, viewer.get("window")]);
    if (key === shown) return;
    shown = key;
    const blob = await new Promise((resolve) => shot.canvas.toBlob(resolve, "image/png"));
    question.set("_image_info", { frame: shot.frame, width: shot.canvas.width, height: shot.canvas.height });
    question.set("_image", new DataView(await blob.arrayBuffer()));
  }
  // Each paint may bring the frame in view at full quality, or a new frame or window: copy once it settles.
  viewerRoot().addEventListener("rr-paint", () => { clearTimeout(timer); timer = setTimeout(copy, 300); });
  question.on("change:result", () => {
    const { region } = question.get("result") || {};
    if (region && region.frame !== viewer.get("frame")) viewer.set("frame", region.frame);
    else copy();
  });
}

/** Widgets new to the page, mounted in their slots under ``root`` (the page, or a revealed stage). */
function mountWidgets(widgets, root) {
  const added = Object.entries(widgets).filter(([id]) => !models.has(id));
  for (const [id, saved] of added) models.set(id, new StateModel(id, saved));
  for (const [id] of added) if (models.get(id).module === "jslink") renderJsLink({ model: models.get(id) });
  for (const slot of root.querySelectorAll("[data-rr-widget]")) mount(slot.dataset.rrWidget, slot);
  for (const [id, saved] of added) {
    const viewerEl = saved.viewer && document.querySelector(`[data-rr-widget="${saved.viewer}"]`);
    if (viewerEl) followViewer(models.get(id), models.get(saved.viewer), viewerEl);
  }
}

mountWidgets(config.widgets, document);
// A revealed stage brings its own widgets and what its cells changed in earlier ones (the arrow
// on the finding, the frame that shows it), as the kernel would have sent them.
document.addEventListener("rr-stage-revealed", ({ detail: { section, widgets, updates, answers } }) => {
  mountWidgets(widgets, section);
  showAnswers(answers);
  for (const [id, changes] of Object.entries(updates)) {
    const model = models.get(id);
    if (model) model.apply(changes);
  }
});

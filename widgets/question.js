// Question: single/multiple choice, free text and "locate the finding".
// The page never holds the answer key: it sends the learner's choice to the kernel
// ({type: "answer", choice}) and shows whatever the kernel puts in `result`.

import { ensureStyle, h } from "./dom.js";

/** @typedef {{get(name: string): any, set(name: string, value: any): void, save_changes(): void,
 *   on(event: string, cb: Function): void, off(event: string, cb?: Function): void,
 *   send(content: any, callbacks?: any, buffers?: any[]): void}} Model */

const STYLE_ID = "rr-question-style";
const CSS = `
[data-rr-question]{font:14px/1.45 system-ui,sans-serif;border:1px solid #c8ccd2;border-radius:6px;padding:12px 14px;margin:6px 0;max-width:720px;color:#1d232b;background:#fff}
[data-rr-question] fieldset{border:0;margin:0;padding:0}
[data-rr-question] legend,[data-rr-question] .rr-q-prompt{font-weight:600;margin-bottom:8px;padding:0}
[data-rr-question] .rr-q-option{display:flex;gap:8px;align-items:flex-start;padding:4px 6px;border-radius:4px}
[data-rr-question] .rr-q-option.rr-q-right{background:#e3f4e3}
[data-rr-question] .rr-q-option.rr-q-wrong{background:#fbe5e3}
[data-rr-question] .rr-q-option-feedback{display:block;font-size:13px;color:#3b4450}
[data-rr-question] textarea{width:100%;min-height:4em;box-sizing:border-box;font:inherit}
[data-rr-question] .rr-q-actions{display:flex;gap:8px;margin-top:10px}
[data-rr-question] button{font:inherit;padding:4px 12px;border-radius:4px;border:1px solid #5a6470;background:#f4f6f8;cursor:pointer}
[data-rr-question] button:focus-visible,[data-rr-question] canvas:focus-visible,[data-rr-question] input:focus-visible{outline:3px solid #2f6fd0;outline-offset:2px}
[data-rr-question] canvas{display:block;max-width:100%;width:384px;background:#000;cursor:crosshair;margin-top:4px}
[data-rr-question] .rr-q-status{margin-top:10px}
[data-rr-question] .rr-q-verdict{font-weight:600}
[data-rr-question][data-state=correct] .rr-q-verdict{color:#19692c}
[data-rr-question][data-state=incorrect] .rr-q-verdict{color:#a3261b}
[data-rr-question] .rr-q-note{font-size:13px;color:#4a5561}
[data-rr-question] .rr-q-model{border-left:3px solid #2f6fd0;padding-left:8px;white-space:pre-wrap}
`;

let uid = 0;



/** Option inputs for single/multiple questions. */
function buildOptions(model, id) {
  const type = model.get("kind") === "multiple" ? "checkbox" : "radio";
  const rows = model.get("options").map((text, i) => {
    const input = h("input", { type, name: `${id}-opt`, id: `${id}-opt-${i}`, value: String(i) });
    const feedback = h("span", { className: "rr-q-option-feedback", id: `${id}-fb-${i}` });
    const label = h("label", { for: `${id}-opt-${i}` }, [h("span", { className: "rr-q-option-text", text }), feedback]);
    const row = h("div", { className: "rr-q-option", "data-option": i }, [input, label]);
    return { input, feedback, row };
  });
  return rows;
}

/** Decode the PNG trait (DataView or ArrayBuffer) into an image element. */
function loadImage(bytes) {
  return new Promise((resolve, reject) => {
    const blob = new Blob([bytes], { type: "image/png" });
    const url = URL.createObjectURL(blob);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("Question: the image could not be decoded")); };
    img.src = url;
  });
}

/** @param {{model: Model, el: HTMLElement}} args */
export function render({ model, el }) {
  ensureStyle(STYLE_ID, CSS);
  const id = `rr-q-${++uid}`;
  const kind = model.get("kind");
  const root = h("div", { "data-rr-question": "", "data-kind": kind, "data-state": "unanswered", role: "group",
    "aria-labelledby": `${id}-prompt` });
  const form = h("form", { novalidate: "" });
  const promptEl = h(kind === "single" || kind === "multiple" ? "legend" : "p",
    { className: "rr-q-prompt", id: `${id}-prompt`, text: model.get("prompt") });
  const verdict = h("div", { className: "rr-q-verdict" });
  const details = h("div", { className: "rr-q-details" });
  const status = h("div", { className: "rr-q-status", role: "status", "aria-live": "polite", "aria-atomic": "true" },
    [verdict, details]);
  const submit = h("button", { type: "submit", text: "Submit" });
  const retry = h("button", { type: "button", text: "Try again", hidden: "" });
  const actions = h("div", { className: "rr-q-actions" }, [submit, retry]);
  let pending = false;
  /** @type {any[]} */
  let rows = [];
  let textarea = null;
  let locate = null;

  if (kind === "single" || kind === "multiple") {
    rows = buildOptions(model, id);
    const note = kind === "multiple" ? [h("p", { className: "rr-q-note", id: `${id}-note`, text: "Choose all that apply." })] : [];
    form.append(h("fieldset", {}, [promptEl, ...note, ...rows.map((r) => r.row)]));
  } else if (kind === "free_text") {
    textarea = h("textarea", { id: `${id}-text`, "aria-labelledby": `${id}-prompt`, "aria-describedby": `${id}-hint` });
    form.append(promptEl, textarea,
      h("p", { className: "rr-q-note", id: `${id}-hint`, text: "Press Enter to submit (Shift+Enter for a new line)." }));
  } else {
    locate = buildLocate(model, id);
    form.append(promptEl, locate.canvas, locate.caption);
  }
  form.append(actions, status);
  root.append(form);
  for (const control of root.querySelectorAll("input, textarea, button, canvas")) {
    control.setAttribute("data-lm-suppress-shortcuts", "true");  // checked on the focused element itself
  }
  el.append(root);

  /** The learner's current choice, or null when nothing is chosen yet. */
  function currentChoice() {
    if (kind === "single") {
      const checked = rows.findIndex((r) => r.input.checked);
      return checked < 0 ? null : checked;
    }
    if (kind === "multiple") {
      const chosen = rows.flatMap((r, i) => (r.input.checked ? [i] : []));
      return chosen.length ? chosen : null;
    }
    if (kind === "free_text") return textarea.value.trim() ? textarea.value : null;
    return locate.choice();
  }

  function send() {
    if (pending || Object.keys(model.get("result") || {}).length) return;
    const choice = currentChoice();
    if (choice === null) {
      verdict.textContent = kind === "locate" ? "Place the marker on the image first (click, or arrow keys then Enter)."
        : kind === "free_text" ? "Write an answer first." : "Choose an answer first.";
      details.replaceChildren();
      return;
    }
    pending = true;
    submit.disabled = true;
    verdict.textContent = "Checking…";
    model.send({ type: "answer", choice });
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  form.addEventListener("keydown", (event) => {
    const target = /** @type {HTMLElement} */ (event.target);
    if (event.key !== "Enter" || event.isComposing) return;
    if (target instanceof HTMLInputElement || (target === textarea && !event.shiftKey)) {
      event.preventDefault();
      send();
    }
  });
  retry.addEventListener("click", () => {
    model.send({ type: "retry" });
  });
  if (locate) locate.onPlace = send;

  function showResult() {
    const result = model.get("result") || {};
    const answered = Object.keys(result).length > 0;
    pending = false;
    root.dataset.state = answered ? result.state : "unanswered";
    submit.disabled = answered;
    retry.hidden = !(answered && !result.final);
    const response = model.get("response");
    for (const [i, r] of rows.entries()) {
      r.input.disabled = answered;
      if (answered) r.input.checked = kind === "single" ? response === i : (response || []).includes(i);
      const text = answered ? (result.feedback || {})[String(i)] || "" : "";
      r.feedback.textContent = text;
      const answer = result.answer || [];
      r.row.classList.toggle("rr-q-right", answered && answer.includes(i));
      r.row.classList.toggle("rr-q-wrong", answered && r.input.checked && result.state === "incorrect" && !answer.includes(i));
    }
    if (!answered) for (const r of rows) r.input.checked = false;
    if (textarea) {
      textarea.disabled = answered;
      if (answered && typeof response === "string") textarea.value = response;
    }
    if (locate) locate.show(result, response);
    verdict.textContent = !answered ? "" : result.state === "correct" ? "Correct."
      : result.state === "incorrect" ? "Incorrect." : "Answer submitted.";
    const parts = [];
    if (answered && kind !== "free_text" && kind !== "locate") {
      for (const [i, text] of Object.entries(result.feedback || {})) {
        parts.push(h("p", { className: "rr-q-feedback", "data-option": i, text: `${model.get("options")[Number(i)]}: ${text}` }));
      }
    }
    if (answered && result.hint) parts.push(h("p", { className: "rr-q-hint", text: result.hint }));
    if (answered && !result.final && result.attempts_left !== undefined) {
      parts.push(h("p", { className: "rr-q-note", text: `${result.attempts_left} attempt${result.attempts_left === 1 ? "" : "s"} left.` }));
    }
    if (answered && result.final && result.answer && result.state === "incorrect") {
      const names = result.answer.map((i) => model.get("options")[i]).join("; ");
      parts.push(h("p", { className: "rr-q-answer", text: `Answer: ${names}` }));
    }
    if (answered && "model_answer" in result) {
      parts.push(h("div", { className: "rr-q-model", "data-model-answer": "" },
        [h("strong", { text: "Model answer: " }), result.model_answer]));
    }
    if (answered && result.explanation) parts.push(h("p", { className: "rr-q-explanation", text: result.explanation }));
    details.replaceChildren(...parts);
  }

  function onMessage(msg) {
    if (msg && msg.type === "error") {
      pending = false;
      submit.disabled = false;
      verdict.textContent = msg.message;
    }
  }

  model.on("change:result", showResult);
  model.on("msg:custom", onMessage);
  showResult();
  return () => {
    model.off("change:result", showResult);
    model.off("msg:custom", onMessage);
    if (locate) locate.dispose();
    root.remove();
  };
}

/** The locate canvas: the viewer's frame, a crosshair moved by pointer or arrow keys. */
function buildLocate(model, id) {
  const canvas = /** @type {HTMLCanvasElement} */ (h("canvas", {
    tabindex: 0, role: "application", id: `${id}-canvas`,
    "aria-label": "Image. Click the finding, or move the crosshair with the arrow keys (Shift for bigger steps) and press Enter to place it.",
  }));
  const caption = h("p", { className: "rr-q-note", "aria-live": "polite" });
  const ctx = canvas.getContext("2d");
  /** @type {HTMLImageElement|null} */
  let image = null;
  /** @type {{x: number, y: number}|null} */
  let mark = null;
  let shown = { result: {}, response: null };
  let generation = 0;
  const api = { canvas, caption, onPlace: () => {}, choice, show, dispose };

  function info() { return model.get("_image_info") || {}; }

  function choice() {
    return mark ? { frame: info().frame, x: mark.x, y: mark.y } : null;
  }

  function draw() {
    const { width = 1, height = 1 } = info();
    if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, width, height);
    if (image) ctx.drawImage(image, 0, 0, width, height);
    const line = Math.max(1, width / 256);
    const { result, response } = shown;
    if (result && result.region) {
      const r = result.region;
      ctx.strokeStyle = "#5fd35f";
      ctx.lineWidth = 2 * line;
      ctx.beginPath();
      ctx.ellipse(r.center[0] + 0.5, r.center[1] + 0.5, r.radius[0], r.radius[1], 0, 0, 2 * Math.PI);
      ctx.stroke();
    }
    const point = response && typeof response === "object" && "x" in response ? response : mark;
    if (point) {
      const x = point.x + 0.5, y = point.y + 0.5, arm = 10 * line;
      ctx.strokeStyle = result && result.state === "correct" ? "#5fd35f" : result && result.state === "incorrect" ? "#ff6b5e" : "#ffd75e";
      ctx.lineWidth = 1.5 * line;
      ctx.beginPath();
      ctx.moveTo(x - arm, y); ctx.lineTo(x - arm / 3, y); ctx.moveTo(x + arm / 3, y); ctx.lineTo(x + arm, y);
      ctx.moveTo(x, y - arm); ctx.lineTo(x, y - arm / 3); ctx.moveTo(x, y + arm / 3); ctx.lineTo(x, y + arm);
      ctx.stroke();
    }
  }

  function describe() {
    const { frame } = info();
    const where = mark ? ` Marker at x ${Math.round(mark.x)}, y ${Math.round(mark.y)}.` : "";
    caption.textContent = `Image ${Number(frame) + 1}.${where}`;
  }

  async function refreshImage() {
    const bytes = model.get("_image");
    const mine = ++generation;
    if (!bytes || !bytes.byteLength) { image = null; draw(); return; }
    try {
      const img = await loadImage(bytes);
      if (mine !== generation) return;
      image = img;
      canvas.dataset.frame = String(info().frame);
      canvas.dataset.painted = "true";
      draw();
      describe();
    } catch (error) {
      caption.textContent = String(error.message || error);
    }
  }

  function answered() { return Object.keys(model.get("result") || {}).length > 0; }

  function onPointer(event) {
    if (answered()) return;
    const rect = canvas.getBoundingClientRect();
    const { width = 1, height = 1 } = info();
    mark = {
      x: Math.min(Math.max((event.clientX - rect.left) * width / rect.width - 0.5, 0), width - 1),
      y: Math.min(Math.max((event.clientY - rect.top) * height / rect.height - 0.5, 0), height - 1),
    };
    draw();
    describe();
  }

  function onKey(event) {
    if (answered()) return;
    const { width = 1, height = 1 } = info();
    const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (event.key in steps) {
      event.preventDefault();
      if (!mark) mark = { x: (width - 1) / 2, y: (height - 1) / 2 };
      const step = Math.max(1, Math.round((event.shiftKey ? 0.1 : 0.02) * width));
      const [dx, dy] = steps[event.key];
      mark = { x: Math.min(Math.max(mark.x + dx * step, 0), width - 1), y: Math.min(Math.max(mark.y + dy * step, 0), height - 1) };
      draw();
      describe();
    } else if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      if (!mark) { mark = { x: (width - 1) / 2, y: (height - 1) / 2 }; draw(); describe(); return; }
      api.onPlace();
    }
  }

  function show(result, response) {
    shown = { result, response };
    if (!Object.keys(result || {}).length) shown.response = null;
    draw();
  }

  function onImageChange() { mark = null; refreshImage(); }

  canvas.addEventListener("click", onPointer);
  canvas.addEventListener("keydown", onKey);
  model.on("change:_image", onImageChange);
  refreshImage();

  function dispose() {
    model.off("change:_image", onImageChange);
  }
  return api;
}

export default { render };

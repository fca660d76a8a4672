// The participant page of a live conference: the presenter's view in the shared viewer
// module, fed by one websocket (no kernel). Explore on your own, follow again in one
// click; answer polls (a choice, or a point on the image); ask and upvote questions.

import { render } from "./viewer.js";
import {
  Link, Stages, clientToImage, drawBars, drawQuestions, el, onPaint, pageConfig, showView, socketUrl, stageUrl, viewModel,
  viewerState,
} from "./conference.js";
import { VIEW_FIELDS } from "./view_state.js";
import { followerVoice } from "./follower_voice.js";

const LATENCIES_KEPT = 2000;
const ANSWER_RETRY_MS = 3000; // an answer the server could not keep yet is sent again this often
const config = pageConfig();
const $ = (id) => document.getElementById(id);
const model = viewModel();
const state = {
  agenda: [], view: null, seq: 0, following: true, poll: null, pin: null, ended: false, upvoted: new Set(),
  unsaved: null, // {key, poll, answer}: the last answer until the server says it is kept (the last one counts)
};
const latencies = [];

const viewerHost = $("viewer");
render({ model, el: viewerHost, transport: "http" });
const root = viewerHost.querySelector("[data-rr-viewer]");
const imageStage = root.querySelector(".rr-stage");
const ticket = `ticket=${encodeURIComponent(config.ticket)}`;
const stages = new Stages($("stages"), (k) => stageUrl(config, k, ticket));
const link = new Link(socketUrl(config, ticket), { onMessage, onStatus });
const voice = followerVoice({ send: (msg) => link.send(msg), $ });

// ---- following the presenter ----
function showPresenterView() {
  const values = state.view && viewerState(state.view, state.agenda);
  if (values) showView(model, values);
}

function setFollowing(value) {
  state.following = value;
  const button = $("follow");
  button.textContent = value ? "Explore on my own" : "Follow presenter";
  document.body.dataset.following = String(value);
  $("mode").textContent = value ? "Following the presenter." : "Exploring on your own: the presenter cannot see your view.";
  link.send({ type: "following", value });
  if (value) showPresenterView();
}

$("follow").addEventListener("click", () => setFollowing(!state.following));
// Scrolling, windowing or zooming while following means "let me look myself".
model.on("change", (key, { applied }) => { if (!applied && state.following && VIEW_FIELDS.includes(key)) setFollowing(false); });

function onView(view) {
  state.view = view;
  const position = state.agenda.findIndex((e) => e.case === view.case);
  $("case-label").textContent = position < 0 ? "" : `Case ${position + 1} of ${state.agenda.length}`;
  stages.show(view.case, view.stage || 0);
  if (state.following) showPresenterView();
}

// ---- polls ----
function setPoll(poll) {
  state.poll = poll;
  const panel = $("poll-panel");
  if (poll) {
    panel.hidden = false;
    $("poll-prompt").textContent = poll.prompt;
    $("poll-results").replaceChildren();
    $("poll-note").textContent = poll.kind === "locate"
      ? "Tap or click the image where you see it (or place a marker and move it with the arrow keys, Enter sends)."
      : "Choose one answer; you can change it until the poll closes.";
    $("poll-choices").replaceChildren(...(poll.kind === "choice"
      ? poll.options.map((label, i) => el("button",
        { type: "button", className: "rr-choice", textContent: label, "aria-pressed": "false", onclick: () => answerChoice(i) }))
      : [el("button", { type: "button", textContent: "Place a marker by keyboard", onclick: placeByKeyboard })]));
  } else {
    $("poll-choices").replaceChildren();
    $("poll-note").textContent = "The poll is closed.";
  }
  removePin();
}

function answerChoice(index) { sendAnswer(index); }

/** A key that makes a re-sent answer count once (crypto.randomUUID needs https; this works on plain http too). */
function answerKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Send an answer and show it as saving until the server says it is kept; the same key on every retry. */
function sendAnswer(answer) {
  state.unsaved = { key: answerKey(), poll: state.poll.id, answer };
  showOwnAnswer(answer, "saving");
  resendAnswer();
}

function resendAnswer() {
  const unsaved = state.unsaved;
  if (!unsaved) return;
  if (!state.poll || state.poll.id !== unsaved.poll) {
    state.unsaved = null;
    $("poll-note").textContent = "The poll closed before your answer could be saved.";
    return;
  }
  send({ type: "answer", poll: unsaved.poll, answer: unsaved.answer, key: unsaved.key });
}

function onAnswerKept(msg, saved) {
  if (!state.unsaved || state.unsaved.key !== msg.key) return; // an older answer, overtaken by the last one
  if (saved) {
    showOwnAnswer(state.unsaved.answer, "saved");
    state.unsaved = null;
    return;
  }
  showOwnAnswer(state.unsaved.answer, "retrying");
  setTimeout(resendAnswer, ANSWER_RETRY_MS);
}

const ANSWER_STATE = { saving: "Saving your answer…", saved: "Answer saved", retrying: "Not saved yet: saving, will retry" };

/** The answer the server holds for this participant (``how``: saving, saved or retrying; saved after a reconnect). */
function showOwnAnswer(answer, how = "saved") {
  document.body.dataset.answer = how;
  if (typeof answer === "number") {
    $("poll-choices").querySelectorAll("button").forEach((b, i) => b.setAttribute("aria-pressed", String(i === answer)));
    $("poll-note").textContent = `${ANSWER_STATE[how]}: ${state.poll.options[answer]}. You can change it until the poll closes.`;
  } else if (model.get("_manifest")) {
    setPin(answer.x, answer.y);
    const where = `(${Math.round(answer.x)}, ${Math.round(answer.y)}) on image ${answer.frame + 1}`;
    $("poll-note").textContent = `${ANSWER_STATE[how]}: the place ${where}; tap again to change it.`;
  }
}

function showResults(results) {
  if (!results) return;
  const closed = state.poll === null || state.poll.id !== results.poll;
  if (!closed) return; // live results are the presenter's; everyone sees them once the poll closes
  $("poll-panel").hidden = false;
  $("poll-prompt").textContent = results.prompt;  // also for whoever joined after the poll closed
  if (results.counts) drawBars($("poll-results"), results, results.counts);
  else $("poll-results").replaceChildren(el("p", { textContent: `${(results.points || []).length} places marked on the image.` }));
}

// ---- locate polls: a pin on the image ----
const locating = () => state.poll && state.poll.kind === "locate";

function drawPin() {
  if (!state.pin) return;
  const [cx, cy] = root.imageToClient(state.pin.x, state.pin.y);
  const box = imageStage.getBoundingClientRect();
  state.pin.node.style.left = `${cx - box.left}px`;
  state.pin.node.style.top = `${cy - box.top}px`;
  const where = `(${Math.round(state.pin.x)}, ${Math.round(state.pin.y)})`;
  state.pin.node.setAttribute("aria-label", `Your answer at ${where}: arrow keys move it, Enter sends`);
}

function setPin(x, y) {
  if (!state.pin) {
    const node = el("button", { type: "button", className: "rr-pin", onkeydown: pinKey, onclick: sendPin });
    imageStage.append(node);
    state.pin = { node };
  }
  Object.assign(state.pin, { x, y });
  drawPin();
}

function removePin() { if (state.pin) state.pin.node.remove(); state.pin = null; }

function sendPin() {
  const answer = { x: Math.round(state.pin.x * 10) / 10, y: Math.round(state.pin.y * 10) / 10, frame: model.get("frame") };
  sendAnswer(answer);
}

function placeByKeyboard() {
  const m = model.get("_manifest");
  if (!m) return;
  setPin(m.columns / 2, m.rows / 2);
  state.pin.node.focus();
}

const PIN_MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
function pinKey(evt) {
  const move = PIN_MOVES[evt.key];
  if (!move) return;
  evt.preventDefault();
  evt.stopPropagation(); // the viewer would scroll frames
  const n = evt.shiftKey ? 10 : 1;
  setPin(state.pin.x + move[0] * n, state.pin.y + move[1] * n);
}

root.addEventListener("pointerdown", (evt) => {
  if (!locating() || !imageStage.contains(evt.target) || evt.target === (state.pin && state.pin.node)) return;
  evt.stopPropagation(); // a tap answers; it does not window or scroll
  evt.preventDefault();
  const [x, y] = clientToImage(root, evt.clientX, evt.clientY);
  setPin(x, y);
  sendPin();
}, true);
onPaint(viewerHost, drawPin);

// ---- questions ----
$("ask").addEventListener("submit", (evt) => {
  evt.preventDefault();
  const text = $("ask-text").value.trim();
  if (!text) return;
  if (send({ type: "ask", text })) { $("ask-text").value = ""; $("ask-note").textContent = "Question sent."; }
});

function upvoteButton(q) {
  if (q.answered) return null;
  const done = state.upvoted.has(q.id); // one upvote each: the server ignores a second
  return el("button", { type: "button", textContent: done ? "Upvoted" : "Upvote", disabled: done, "aria-label": `Upvote: ${q.text}`,
    onclick: (evt) => { if (send({ type: "upvote", question: q.id })) { state.upvoted.add(q.id); evt.target.disabled = true; } } });
}

// ---- the link ----
function send(msg) {
  if (link.send(msg)) return true;
  $("status").textContent = "Not connected: reconnecting, try again in a moment.";
  return false;
}

function onStatus(status, reason) {
  const text = { connecting: "Connecting…", open: "Connected", reconnecting: "Link lost: reconnecting…",
    closed: state.ended ? "The conference has ended." : `Disconnected${reason ? `: ${reason}` : ""}.` }[status];
  $("status").textContent = text;
  if (status !== "open") $("rtt").textContent = "";
  document.body.dataset.link = status;
}

function onMessage(msg) {
  if (voice.onMessage(msg) && msg.type !== "welcome") return;
  if (msg.type === "welcome") {
    state.agenda = msg.agenda || [];
    state.seq = msg.seq || 0;
    $("you").textContent = msg.you ? `You are ${msg.you.name}` : "";
    setPoll(msg.poll || null);
    if (msg.poll && msg.answer !== null && msg.answer !== undefined) showOwnAnswer(msg.answer);
    resendAnswer(); // an answer whose acknowledgement the dropped link lost: the same key, so it counts once
    showResults(msg.results);
    drawQuestions($("questions"), msg.questions || [], upvoteButton);
    if (!state.following) link.send({ type: "following", value: false });
    if (msg.view) onView(msg.view);
  } else if (msg.type === "view") {
    if (msg.seq <= state.seq) return; // an older snapshot overtaken by the welcome's
    state.seq = msg.seq;
    if (typeof msg.t === "number") { latencies.push(Date.now() - msg.t); if (latencies.length > LATENCIES_KEPT) latencies.shift(); }
    onView(msg.view);
  } else if (msg.type === "poll") setPoll(msg.poll);
  else if (msg.type === "results") showResults(msg);
  else if (msg.type === "questions") drawQuestions($("questions"), msg.questions || [], upvoteButton);
  else if (msg.type === "saved" || msg.type === "unsaved") onAnswerKept(msg, msg.type === "saved");
  else if (msg.type === "pong" && link.rtt !== null) $("rtt").textContent = `${link.rtt} ms`;
  if (msg.type === "ended" || (msg.type === "welcome" && msg.ended)) {
    state.ended = true; link.stop(); onStatus("closed");
    if ($("replay-link")) $("replay-link").hidden = false; // a recorded session: its replay, for later
  }
}

window.rrConference = {
  get socket() { return link.socket; }, get seq() { return state.seq; }, get following() { return state.following; },
  get reconnects() { return link.reconnects; }, latencies, model,
};

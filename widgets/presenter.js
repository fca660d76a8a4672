// The presenter console of a live conference: drives every follower's viewer (each change
// of series, frame, window, zoom, pan or annotations goes out, at most once per animation
// frame), reveals the case in stages, runs polls with live results, answers the Q&A queue
// and watches the roster.

import { render } from "./viewer.js";
import {
  Link, Stages, drawBars, drawQuestions, el, onPaint, pageConfig, showView, snapshot, socketUrl, stageUrl, viewModel,
  viewerState,
} from "./conference.js";
import { VIEW_FIELDS } from "./view_state.js";
import { presenterVoice } from "./presenter_voice.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);
const token = encodeURIComponent(config.token);
const model = viewModel();
const state = {
  agenda: [], caseId: null, stage: 0, poll: null, results: null, lastSent: "", queued: false,
  unknown: true, revealed: new Set(), // unknown mode: titles (the diagnosis) hidden until a case is fully revealed
  roster: [], listening: new Set(), // participants whose voice connection is up
};

const viewerHost = $("viewer");
render({ model, el: viewerHost, transport: "http" });
const root = viewerHost.querySelector("[data-rr-viewer]");
const heat = el("canvas", { className: "rr-heat", "aria-hidden": "true", "data-points": "0" });
root.querySelector(".rr-stage").append(heat);
const stages = new Stages($("stages"), (k, caseId) => stageUrl(config, k, `token=${token}&case=${caseId}`), addDrawn);
const link = new Link(socketUrl(config, `token=${token}`), { onMessage, onStatus });
const voice = presenterVoice({ send: (msg) => link.send(msg), $, onListeners: (ids) => { state.listening = ids; drawRoster(state.roster); } });

// ---- the view every follower sees ----
function publish() {
  state.queued = false;
  if (!model.get("_manifest")) return;
  const view = snapshot(model, state.caseId, state.stage);
  const text = JSON.stringify(view);
  if (text !== state.lastSent && link.send({ type: "view", view, t: Date.now() })) state.lastSent = text;
}

/** At most one view message per animation frame, however fast the presenter scrolls. */
function publishSoon() {
  if (state.queued) return;
  state.queued = true;
  if (document.hidden) setTimeout(publish, 16); else requestAnimationFrame(publish);
}

// Every change of a shared field goes out, the presenter's own (scrolling, windowing) as they happen.
model.on("change", (key, { applied }) => {
  if (key === "series" && !applied) showCase(state.caseId, state.stage, model.get("series"));
  else if (VIEW_FIELDS.includes(key)) publishSoon();
});
onPaint(viewerHost, drawHeat);

/** Show ``caseId`` from its first image (or ``view`` when restoring the console after a reload). */
function showCase(caseId, stage, series = 0, view = null) {
  const values = viewerState(view || { case: caseId, series }, state.agenda);
  if (!values) return;
  showView(model, values);
  state.caseId = caseId;
  state.stage = stage;
  drawAgenda();
  drawReveal();
  stages.show(caseId, stage);
  publishSoon();
}

/** The agenda's name for a case: in unknown mode its presentation, never its title, until its last stage is out. */
function agendaLabel(entry, i) {
  if (!state.unknown || state.revealed.has(entry.case)) return `${i + 1}. ${entry.title}`;
  return `${i + 1}. Unknown case${entry.presentation ? `: ${entry.presentation}` : ""}`;
}

function drawAgenda() {
  $("agenda").replaceChildren(...state.agenda.map((entry, i) => el("li", {},
    el("button", {
      type: "button", textContent: agendaLabel(entry, i), "aria-current": String(entry.case === state.caseId),
      onclick: () => { if (entry.case !== state.caseId) showCase(entry.case, 0); },
    }))));
}

function drawReveal() {
  const entry = state.agenda.find((e) => e.case === state.caseId);
  const count = (entry && entry.stages) || 1;
  if (entry && state.stage + 1 >= count && !state.revealed.has(entry.case)) {
    state.revealed.add(entry.case); // the whole case is out: its title is no longer a secret
    drawAgenda();
  }
  $("stage-label").textContent = `Stage ${state.stage + 1} of ${count} shown`;
  $("reveal").disabled = state.stage + 1 >= count;
}

/**
 * What the author's cells drew on the case's viewer by the stage just revealed (the arrows on the
 * finding) joins the shared view, so every follower sees it with the reveal; the presenter's own
 * drawings stay.
 */
function addDrawn({ number, drawn }) {
  if (!drawn || number !== state.stage || (model.get("series") || 0) !== drawn.series) return;
  const have = model.get("annotations") || [];
  const seen = new Set(have.map((a) => JSON.stringify(a)));
  const added = drawn.annotations.filter((a) => !seen.has(JSON.stringify(a)));
  if (added.length) model.set("annotations", [...have, ...added]);
}

$("unknown-mode").addEventListener("click", () => {
  state.unknown = !state.unknown;
  $("unknown-mode").setAttribute("aria-pressed", String(state.unknown));
  drawAgenda();
});

$("reveal").addEventListener("click", () => {
  state.stage += 1;
  drawReveal();
  stages.show(state.caseId, state.stage);
  publishSoon();
});

// ---- polls ----
$("poll-form").addEventListener("submit", (evt) => {
  evt.preventDefault();
  const kind = $("poll-form").elements.kind.value;
  const poll = { id: `p${Date.now().toString(36)}`, kind, prompt: $("poll-question").value.trim() };
  if (kind === "choice") poll.options = $("poll-options").value.split("\n").map((s) => s.trim()).filter(Boolean);
  if (kind === "choice" && poll.options.length < 2) {
    $("poll-note").textContent = "A choice poll needs at least two options, one per line.";
    return;
  }
  if (link.send({ type: "poll_open", poll })) $("poll-note").textContent = "";
  else $("poll-note").textContent = "Not connected: the poll was not opened.";
});
$("poll-form").addEventListener("change", () => { $("options-field").hidden = $("poll-form").elements.kind.value !== "choice"; });
$("poll-close").addEventListener("click", () => { if (state.poll) link.send({ type: "poll_close", poll: state.poll.id }); });

function setPoll(poll) {
  state.poll = poll;
  $("poll-live").hidden = !poll;
  $("poll-form").hidden = !!poll;
  $("poll-live-prompt").textContent = poll ? `${poll.kind === "locate" ? "Locate" : "Poll"} open: ${poll.prompt}` : "";
}

function showResults(results) {
  state.results = results;
  if (!results) return;
  $("poll-results-heading").textContent = state.poll ? "Live results" : `Final results: ${results.prompt}`;
  if (results.counts) drawBars($("poll-results"), results, results.counts);
  else {
    const n = results.points.length;
    const text = `${n} place${n === 1 ? "" : "s"} marked: see the heat map on the image.`;
    $("poll-results").replaceChildren(el("p", { className: "rr-total", textContent: text }));
  }
  drawHeat();
}

/** Participants' clicks of a locate poll, drawn over the image; those on other frames fainter. */
function drawHeat() {
  const points = state.results && state.results.points;
  if (!points && heat.dataset.points === "0") return; // nothing drawn, nothing to draw: scrolling stays cheap
  const box = heat.parentElement.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(box.width * dpr), h = Math.round(box.height * dpr);
  if (heat.width !== w || heat.height !== h) { heat.width = w; heat.height = h; }
  const ctx = heat.getContext("2d");
  ctx.clearRect(0, 0, heat.width, heat.height);
  if (!points || !model.get("_manifest")) { heat.dataset.points = "0"; return; }
  const frame = model.get("frame");
  let here = 0;
  for (const p of points) {
    const [cx, cy] = root.imageToClient(p.x, p.y);
    const x = (cx - box.left) * dpr, y = (cy - box.top) * dpr, r = 18 * dpr;
    const alpha = p.frame === frame ? 0.55 : 0.15;
    if (p.frame === frame) here += 1;
    const g = ctx.createRadialGradient(x, y, 0, x, y, r);
    g.addColorStop(0, `rgba(255,60,0,${alpha})`);
    g.addColorStop(1, "rgba(255,60,0,0)");
    ctx.fillStyle = g;
    ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
  }
  heat.dataset.points = String(here);
}

// ---- Q&A and roster ----
function answeredButton(q) {
  if (q.answered) return null;
  return el("button", { type: "button", textContent: "Mark answered", "aria-label": `Mark answered: ${q.text}`,
    onclick: () => link.send({ type: "answered", question: q.id }) });
}

function drawQuestionQueue(questions) {
  const waiting = questions.filter((q) => !q.answered).length;
  const note = `${waiting} question${waiting === 1 ? "" : "s"} waiting`;
  if ($("qa-note").textContent !== note) $("qa-note").textContent = note; // announced only when it changes
  drawQuestions($("questions"), questions, answeredButton);
}

function drawRoster(roster) {
  state.roster = roster;
  const connected = roster.filter((p) => p.connected);
  const detached = connected.filter((p) => !p.following).length;
  const count = `${connected.length} connected, ${detached} exploring on their own`;
  if ($("roster-count").textContent !== count) $("roster-count").textContent = count; // rosters come with every ping
  $("roster").replaceChildren(...roster.map((p) => el("tr", { "data-participant": String(p.id) },
    el("td", { textContent: p.name }),
    el("td", { textContent: (!p.connected ? "offline" : p.following ? "following" : "detached")
      + (state.listening.has(p.id) ? ", listening" : "") }),
    el("td", { textContent: p.rtt_ms === null || p.rtt_ms === undefined ? "–" : `${Math.round(p.rtt_ms)} ms` }))));
}

$("end").addEventListener("click", () => {
  if (window.confirm("End the conference for everyone?")) link.send({ type: "end" });
});

// ---- records: what waits for the records store ----
/** "records" messages: while the store is unreachable, say so and how many records wait (none is lost). */
function showRecords(records) {
  if (!records) return;
  const waiting = `${records.waiting} record${records.waiting === 1 ? "" : "s"} waiting`;
  let text = "Records: all saved";
  if (records.problem) text = `Records store unreachable: ${waiting}, kept on this server, saving, will retry`;
  else if (records.waiting) text = `Records: ${waiting}, saving`;
  if (records.refused) text += `; ${records.refused} refused by the store (see the server log)`;
  $("records").textContent = text;
  $("records").dataset.state = records.problem ? "unreachable" : records.waiting ? "saving" : "ok";
  $("records").dataset.waiting = String(records.waiting);
}

// ---- the link ----
function onStatus(status, reason) {
  $("status").textContent = { connecting: "Connecting…", open: "Connected", reconnecting: "Link lost: reconnecting…",
    closed: `Disconnected${reason ? `: ${reason}` : ""}.` }[status];
  document.body.dataset.link = status;
}

function onMessage(msg) {
  if (voice.onMessage(msg)) return;
  if (msg.type === "welcome") {
    state.agenda = msg.agenda || [];
    state.lastSent = "";
    setPoll(msg.poll || null);
    if (msg.results) showResults(msg.results);
    drawQuestionQueue(msg.questions || []);
    const view = msg.view;
    if (state.caseId) publishSoon(); // back after a dropped link: the console's view is the newest
    else if (view && viewerState(view, state.agenda)) showCase(view.case, view.stage || 0, view.series, view);
    else if (state.agenda.length) showCase(state.agenda[0].case, 0);
    if (msg.ended) onStatus("closed", "this conference has ended");
    showRecords(msg.records);
  } else if (msg.type === "poll") setPoll(msg.poll);
  else if (msg.type === "results") showResults(msg);
  else if (msg.type === "questions") drawQuestionQueue(msg.questions || []);
  else if (msg.type === "roster") drawRoster(msg.roster || []);
  else if (msg.type === "records") showRecords(msg);
  else if (msg.type === "ended") { link.stop(); onStatus("closed", "the conference has ended"); }
}

window.rrPresenter = { get socket() { return link.socket; }, model, snapshot: () => snapshot(model, state.caseId, state.stage) };

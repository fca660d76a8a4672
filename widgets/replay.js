// The replay of a past conference: the presenter's views in the shared viewer module, in step
// with the recorded voice (or with a clock when no voice was recorded), a seek bar, chapters at
// each case, reveal and poll, poll results as they were shown. The events come with the page
// (t: seconds on the recording's clock); what a moment shows is the last of each kind before it.

import { render } from "./viewer.js";
import { Stages, drawBars, el, pageConfig, showView, viewModel, viewerState } from "./conference.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);
const model = viewModel();
const events = config.events;
const times = events.map((e) => e.t);

const viewerHost = $("viewer");
render({ model, el: viewerHost, transport: "http" });
const stages = new Stages($("stages"), (k, caseId) =>
  `${config.base}readingroom/conference/${config.session}/replay/stages/${k}?case=${caseId}`);

/** The voice's own clock, or a wall clock over the timeline when there is no voice. */
class WallClock {
  constructor(duration) { this.duration = duration; this.offset = 0; this.since = null; }
  get paused() { return this.since === null; }
  get now() {
    if (this.paused) return this.offset;
    return Math.min(this.duration, this.offset + (performance.now() - this.since) / 1000);
  }
  play() { if (this.now >= this.duration) this.offset = 0; this.since = performance.now(); return Promise.resolve(); }
  pause() { this.offset = this.now; this.since = null; }
  seek(t) { this.offset = t; if (!this.paused) this.since = performance.now(); }
}

class AudioClock {
  constructor(audio) { this.audio = audio; }
  get paused() { return this.audio.paused; }
  get now() { return this.audio.currentTime; }
  play() { return this.audio.play(); }
  pause() { this.audio.pause(); }
  seek(t) { this.audio.currentTime = t; }
}

const audio = $("audio");
if (audio) audio.src = config.audio;
const clock = audio ? new AudioClock(audio) : new WallClock(config.duration);
const duration = () => (audio && Number.isFinite(audio.duration) ? Math.max(audio.duration, config.duration) : config.duration);

// ---- what a moment shows: for each event index, the last view, the last poll event, the answered count ----
const lastView = [], lastPoll = [], answeredUpTo = [];
events.forEach((event, i) => {
  lastView.push(event.kind === "view" ? i : (i ? lastView[i - 1] : -1));
  lastPoll.push(event.kind === "poll_open" || event.kind === "poll_closed" ? i : (i ? lastPoll[i - 1] : -1));
  answeredUpTo.push((i ? answeredUpTo[i - 1] : 0) + (event.kind === "answered" ? 1 : 0));
});
const answered = events.filter((e) => e.kind === "answered");

/** Index of the last event at or before ``t`` (-1 before the first). */
function indexAt(t) {
  let lo = 0, hi = times.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (times[mid] <= t) lo = mid + 1; else hi = mid; }
  return lo - 1;
}

let shown = null; // the event index on screen
function showMoment(i) {
  if (i === shown) return;
  const before = shown;
  shown = i;
  const v = i < 0 ? -1 : lastView[i];
  if (v >= 0 && (before === null || before < 0 || lastView[before] !== v)) showPresenterView(events[v].view);
  showPoll(i < 0 ? -1 : lastPoll[i]);
  showAnswered(i < 0 ? 0 : answeredUpTo[i]);
  document.body.dataset.event = String(i);
}

function showPresenterView(view) {
  const values = viewerState(view, config.agenda);
  if (values) showView(model, values);
  const position = config.agenda.findIndex((e) => e.case === view.case);
  $("case-label").textContent = position < 0 ? "" : `Case ${position + 1} of ${config.agenda.length}`;
  stages.showOnly(view.case, view.stage || 0);
}

function showPoll(p) {
  const panel = $("poll-panel");
  panel.hidden = p < 0;
  if (p < 0) return;
  const event = events[p];
  if (event.kind === "poll_open") {
    $("poll-prompt").textContent = event.poll.prompt;
    $("poll-note").textContent = "The poll is open: participants are answering.";
    $("poll-results").replaceChildren(...(event.poll.options || []).map((o) => el("p", { textContent: o })));
    return;
  }
  const results = event.results;
  $("poll-prompt").textContent = results.prompt;
  $("poll-note").textContent = "The poll closed; its results as participants saw them:";
  if (results.counts) drawBars($("poll-results"), results, results.counts);
  else $("poll-results").replaceChildren(el("p", { textContent: `${results.marked || 0} places marked on the image.` }));
}

let answeredShown = null;
function showAnswered(n) {
  if (n === answeredShown) return;
  answeredShown = n;
  $("answered").replaceChildren(...(n ? answered.slice(0, n).map((e) => el("li", { className: "rr-answered" },
    el("p", { className: "rr-q-text", textContent: e.question })))
    : [el("li", { className: "rr-empty", textContent: "None yet at this point." })]));
}

// ---- controls: play, the seek bar, chapters ----
const seek = $("seek");
const play = $("play");

function clockText(t) {
  const s = Math.max(0, Math.floor(t));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const SEEK_SLACK = 0.05; // seconds: a seek to a chapter may land on the audio frame just before it
let asked = null; // the second the listener moved the seek bar to, until the voice has got there

function update() {
  const now = clock.now, total = duration();
  seek.max = String(Math.ceil(total));
  if (asked !== null && (audio?.seeking || Math.abs(now - asked) < 1)) {
    seek.value = String(asked); // a seek still under way (or landed a frame short) must not undo the keys pressed since
    if (!audio?.seeking) asked = null;
  } else if (document.activeElement !== seek || clock.paused) seek.value = String(now);
  const text = `${clockText(now)} of ${clockText(total)}`;
  seek.setAttribute("aria-valuetext", text);
  $("clock").textContent = text;
  play.textContent = clock.paused ? "Play recording" : "Pause recording";
  showMoment(indexAt(now));
  highlightChapter(now);
}

function tick() {
  if (!audio && !clock.paused && clock.now >= config.duration) clock.pause();
  update();
  if (!clock.paused) requestAnimationFrame(tick);
}

play.addEventListener("click", async () => {
  if (clock.paused) {
    try { await clock.play(); } catch (error) { $("replay-note").textContent = `The recording cannot be played: ${error.message}`; }
  } else clock.pause();
  tick();
});
seek.addEventListener("input", () => { asked = Number(seek.value); clock.seek(asked); update(); });
if (audio) for (const type of ["play", "pause", "seeked", "ended", "loadedmetadata", "durationchange"]) audio.addEventListener(type, tick);

const chapterButtons = config.chapters.map((chapter) => el("button", {
  type: "button", className: "rr-chapter", "data-t": String(chapter.t), "aria-current": "false",
  onclick: () => { clock.seek(chapter.t); update(); },
}, el("span", { className: "rr-clock", textContent: clockText(chapter.t) }), ` ${chapter.title}`));
$("chapters").replaceChildren(...(chapterButtons.length
  ? chapterButtons.map((b) => el("li", {}, b))
  : [el("li", { className: "rr-empty", textContent: "No chapters: the presenter showed one case without polls." })]));

function highlightChapter(now) {
  let current = -1;
  config.chapters.forEach((c, i) => { if (c.t <= now + SEEK_SLACK) current = i; });
  chapterButtons.forEach((b, i) => b.setAttribute("aria-current", String(i === current)));
}

// Self-study time on the module while the replay plays (readingroomTimeOnTask: learning/time_on_task.js, in the page).
if (config.heartbeat) readingroomTimeOnTask(config.heartbeat, config.xsrf, config.module, () => !clock.paused);
update();

window.rrReplay = { model, clock, get shown() { return shown; } };

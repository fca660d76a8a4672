// Time on task for CME credit: a heartbeat every 30 s while the page is visible AND the
// learner has used it (pointer, keys, wheel, scroll, touch) in the last 5 minutes. The
// first beat after the page was hidden or idle says resumed=1, so time away never counts.
// Shared by the module page, the case pages opened from a module (?module=<name>) and conference
// replays, which count as in use while they play (inUse): listening is using them.
// A beat that cannot be sent (no connection; or no heartbeat ``url``: a static site) keeps the
// seconds since the last beat, at most one beat's worth, in the outbox (outbox.js) when there is one.
function readingroomTimeOnTask(url, xsrf, module, inUse = () => false) {
  const BEAT_MS = 30000, IDLE_MS = 5 * 60000, MAX_SECONDS = 60;
  let lastUse = Date.now(), counting = false, lastBeat = null;

  function beat(resumed) {
    const now = Date.now();
    const seconds = resumed || lastBeat === null ? 0 : Math.min(Math.round((now - lastBeat) / 1000), MAX_SECONDS);
    lastBeat = now;
    const keep = () => {
      if (seconds > 0 && window.readingroomOutbox) window.readingroomOutbox.add({ kind: "time", module, seconds });
    };
    if (!url || navigator.onLine === false) return keep();
    const body = new URLSearchParams({ resumed: resumed ? "1" : "0" });
    fetch(url, { method: "POST", body, keepalive: true, credentials: "same-origin",
      headers: { "X-XSRFToken": xsrf } }).catch(keep);
  }
  const active = () => document.visibilityState === "visible" && (Date.now() - lastUse < IDLE_MS || inUse());

  function tick() {
    if (active()) {
      beat(!counting);
      counting = true;
    } else if (counting) {
      counting = false;  // idle: the last beat already counted up to then
    }
  }
  function used() {
    lastUse = Date.now();
    if (!counting && document.visibilityState === "visible") tick();
  }
  for (const type of ["pointerdown", "pointermove", "keydown", "wheel", "scroll", "touchstart"]) {
    window.addEventListener(type, used, { passive: true, capture: true });
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") { used(); } else if (counting) { beat(false); counting = false; }
  });
  window.addEventListener("pagehide", () => { if (counting) beat(false); });
  setInterval(tick, BEAT_MS);
  tick();
}

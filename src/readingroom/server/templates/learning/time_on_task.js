// Time on task for CME credit: a heartbeat every 30 s while the page is visible AND the
// learner has used it (pointer, keys, wheel, scroll, touch) in the last 5 minutes. The
// first beat after the page was hidden or idle says resumed=1, so time away never counts.
// Shared by the module page, the case pages opened from a module (?module=<name>) and conference
// replays, which count as in use while they play (inUse): listening is using them.
function readingroomTimeOnTask(url, xsrf, inUse = () => false) {
  const BEAT_MS = 30000, IDLE_MS = 5 * 60000;
  let lastUse = Date.now(), counting = false;

  function beat(resumed) {
    const body = new URLSearchParams({ resumed: resumed ? "1" : "0" });
    fetch(url, { method: "POST", body, keepalive: true, credentials: "same-origin",
      headers: { "X-XSRFToken": xsrf } }).catch(() => {});  // a lost beat only loses seconds
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

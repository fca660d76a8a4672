// Module page: time on task by a heartbeat every 30 s while the page is visible, and the saved step in view.
(() => {
  const config = window.READINGROOM_MODULE;
  const BEAT_MS = 30000;
  let timer = null;

  /** Tell the server the page is (or was, until now) visible; it does the counting. */
  function beat() {
    fetch(config.heartbeat, { method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "X-XSRFToken": config.xsrf } }).catch(() => {});  // a lost beat only loses seconds
  }

  function follow() {
    if (document.visibilityState === "visible") {
      beat();
      if (timer === null) timer = setInterval(beat, BEAT_MS);
    } else {
      clearInterval(timer);
      timer = null;
      beat();
    }
  }

  // Back from a case page: a page restored from the back/forward cache would show that case unopened.
  window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });
  document.addEventListener("visibilitychange", follow);
  window.addEventListener("pagehide", () => { if (document.visibilityState === "visible") beat(); });
  follow();

  const current = document.getElementById(`step-${config.current}`);
  if (current && !location.hash) {
    current.scrollIntoView({ block: "start" });
    current.querySelector("h2").setAttribute("tabindex", "-1");
    current.querySelector("h2").focus({ preventScroll: true });
  }
})();

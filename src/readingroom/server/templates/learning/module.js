// Module page: time on task (time_on_task.js), and the saved step in view.
(() => {
  const config = window.READINGROOM_MODULE;
  readingroomTimeOnTask(config.heartbeat, config.xsrf);

  // Back from a case page: a page restored from the back/forward cache would show that case unopened.
  window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

  const current = document.getElementById(`step-${config.current}`);
  if (current && !location.hash) {
    current.scrollIntoView({ block: "start" });
    current.querySelector("h2").setAttribute("tabindex", "-1");
    current.querySelector("h2").focus({ preventScroll: true });
  }
})();

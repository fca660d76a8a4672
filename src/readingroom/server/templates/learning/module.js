// Module page: time on task (time_on_task.js), the saved step in view, and with no connection
// the pre-/post-test and the evaluation kept in the outbox (outbox.js) until they can be sent.
(() => {
  const config = window.READINGROOM_MODULE;
  readingroomTimeOnTask(config.heartbeat, config.xsrf, config.module);

  // Offline, this page is the copy saved earlier: every case is a link, opened in order from the copy,
  // and each opening is sent (in that order) once online, where the server checks the order again.
  const linkCases = () => {
    if (navigator.onLine !== false) return;
    for (const label of document.querySelectorAll("[data-rr-offline-link]")) {
      label.replaceWith(Object.assign(document.createElement("a"), { href: label.dataset.rrOfflineLink,
                                                                     textContent: label.textContent }));
    }
  };
  linkCases();
  window.addEventListener("offline", linkCases);

  const KINDS = { "pre-form": ["test", "pre"], "post-form": ["test", "post"], "evaluation-form": ["evaluation", null] };
  for (const [id, [kind, test]] of Object.entries(KINDS)) {
    const form = document.getElementById(id);
    if (!form) continue;
    form.addEventListener("submit", async (event) => {
      if (navigator.onLine !== false || !window.readingroomOutbox) return;  // online: the form posts as ever
      event.preventDefault();
      const choices = {};
      for (const [name, value] of new FormData(form)) {
        if (name !== "_xsrf" && value !== "") choices[name] = /^\d+$/.test(value) ? Number(value) : value;
      }
      await window.readingroomOutbox.add({ kind, module: config.module, choices, ...(test ? { test } : {}) });
      form.querySelector("button[type=submit]").disabled = true;
      const kept = Object.assign(document.createElement("p"), { className: "ok", role: "status",
        textContent: "Kept on this device: it is sent, and scored, when the connection returns." });
      form.after(kept);
    });
  }

  // Back from a case page: a page restored from the back/forward cache would show that case unopened.
  window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });

  const current = document.getElementById(`step-${config.current}`);
  if (current && !location.hash) {
    current.scrollIntoView({ block: "start" });
    current.querySelector("h2").setAttribute("tabindex", "-1");
    current.querySelector("h2").focus({ preventScroll: true });
  }
})();

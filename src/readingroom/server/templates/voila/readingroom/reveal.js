// Reveal: fetch the next stage (it is not in this page until asked for): from the server, or from
// the static site's stage file named by its key (data-stages: a URL with {stage} and {key}).
(function () {
  "use strict";
  const button = document.getElementById("rr-reveal");
  if (!button) return;
  const target = document.getElementById("rr-revealed");
  button.addEventListener("click", async () => {
    const { stages, stage, key } = button.dataset;
    button.disabled = true;
    try {
      const reply = await fetch(stages.replace("{stage}", stage).replace("{key}", encodeURIComponent(key)));
      if (!reply.ok) throw new Error(`the server answered ${reply.status}`);
      const found = await reply.json();
      const section = document.createElement("div");
      section.className = "rr-stage";
      section.dataset.stage = String(found.number);
      section.innerHTML = found.html;
      target.append(section);
      // A case page without a kernel mounts the stage's widgets (case_page.js listens).
      document.dispatchEvent(new CustomEvent("rr-stage-revealed",
        { detail: { section, widgets: found.widgets || {}, updates: found.updates || {}, answers: found.answers || {} } }));
      const heading = section.querySelector("h1, h2, h3");
      if (heading) { heading.tabIndex = -1; heading.focus(); }
      if (found.next) {
        Object.assign(button.dataset, { stage: String(found.next.number), key: found.next.key });
        button.textContent = `Reveal ${found.next.label}`;
        button.disabled = false;
      } else {
        button.parentElement.remove();
      }
    } catch (error) {
      button.disabled = false;
      const note = document.createElement("p");
      note.className = "rr-error";
      note.textContent = `Reveal failed (${error.message}); try again.`;
      target.append(note);
    }
  });
})();

// Catalog: cards, filters and search over the index, client-side. Unknown mode uses the index
// without titles, diagnoses and tags; the full index is fetched only when unknown mode is off.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const unknownIndex = JSON.parse($("catalog-index").textContent);
  let knownIndex = null;
  let entries = unknownIndex;
  const selects = { modality: (e) => e.modalities || [], region: (e) => [e.region], difficulty: (e) => [e.difficulty], tag: (e) => e.tags || [] };

  function fillOptions() {
    for (const [id, values] of Object.entries(selects)) {
      const select = $(id);
      const chosen = select.value;
      const found = [...new Set(entries.flatMap(values).filter(Boolean))].sort();
      select.replaceChildren(select.options[0], ...found.map((v) => new Option(v, v)));
      select.value = found.includes(chosen) ? chosen : "";
    }
    $("tag").hidden = unknown();
  }

  function unknown() { return $("unknown-mode").checked; }

  function text(entry) {
    return [entry.title, entry.diagnosis, entry.presentation, entry.region, entry.system, entry.difficulty,
            ...(entry.modalities || []), ...(entry.tags || [])].filter(Boolean).join(" ").toLowerCase();
  }

  function matches(entry) {
    const words = $("search").value.toLowerCase().split(/\s+/).filter(Boolean);
    const haystack = text(entry);
    return words.every((w) => haystack.includes(w)) &&
      Object.entries(selects).every(([id, values]) => !$(id).value || values(entry).includes($(id).value));
  }

  function chip(label, cls) {
    const span = document.createElement("span");
    span.textContent = label;
    if (cls) span.className = cls;
    return span;
  }

  function card(entry) {
    const link = document.createElement("a");
    link.className = "card";
    link.href = entry.url;
    link.dataset.id = entry.id;
    const img = document.createElement("img");
    img.src = entry.thumbnail; img.loading = "lazy"; img.width = 320; img.height = 240;
    img.alt = `Key image, ${(entry.modalities || []).join(", ")} of the ${entry.region}`;
    const body = document.createElement("div");
    body.className = "body";
    const heading = document.createElement("h2");
    heading.textContent = entry.title || `Unknown case: ${entry.region}`;
    const presentation = document.createElement("p");
    presentation.textContent = entry.presentation;
    const chips = document.createElement("p");
    chips.className = "chips";
    chips.append(...(entry.modalities || []).map((m) => chip(m)), chip(entry.region));
    if (!unknown()) {
      chips.append(chip(entry.system), chip(entry.difficulty), chip(`${entry.minutes} min`), ...(entry.tags || []).map((t) => chip(t, "tag")));
    }
    body.append(heading, presentation, chips);
    link.append(img, body);
    return link;
  }

  function render() {
    const shown = entries.filter(matches);
    $("cards").replaceChildren(...shown.map(card));
    $("count").textContent = `${shown.length} of ${entries.length} cases`;
  }

  async function setMode() {
    localStorage.setItem("readingroom-unknown-mode", unknown() ? "on" : "off");
    if (!unknown() && !knownIndex) {
      const reply = await fetch(window.READINGROOM_KNOWN_INDEX);
      knownIndex = await reply.json();
    }
    entries = unknown() ? unknownIndex : knownIndex;
    fillOptions();
    render();
  }

  $("unknown-mode").checked = localStorage.getItem("readingroom-unknown-mode") !== "off";
  $("unknown-mode").addEventListener("change", setMode);
  $("filters").addEventListener("input", render);
  setMode();
})();

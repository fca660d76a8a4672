// "Save for offline" on a module page, on a static site and on `readingroom serve` alike: stores
// the module's pages, scripts, stages and frames (the host's list of them) in the cache the
// service worker (sw.js) serves from, showing progress and the space used, and marks
// <html data-rr-offline="ready"> once all is stored. "Remove offline copy" frees it.
(() => {
  const config = JSON.parse(document.getElementById("rr-offline-config").textContent);
  const root = new URL(config.root, location.href);
  const $ = (id) => document.getElementById(id);
  const cacheName = `readingroom-offline-${config.module}`;
  const COMPLETE = "readingroom-offline-complete";  // stored last: a copy without it was cut short
  const megabytes = (n) => `${(n / 1e6).toFixed(1)} MB`;

  function show(state, text) {
    document.documentElement.dataset.rrOffline = state;
    $("rr-offline-status").textContent = text;
    $("rr-offline-save").hidden = state === "ready" || state === "saving";
    $("rr-offline-remove").hidden = state !== "ready";
    $("rr-offline-progress").hidden = state !== "saving";
  }

  async function isSaved() {
    const cache = await caches.open(cacheName);
    const done = await cache.match(COMPLETE);
    return done ? done.json() : null;
  }

  async function save() {
    const reply = await fetch(config.list, { cache: "no-store" });
    if (!reply.ok) throw new Error(reply.status === 403 ? "sign in again first" : `the server replied ${reply.status}`);
    const list = await reply.json();
    const cache = await caches.open(cacheName);
    const bar = $("rr-offline-progress");
    bar.max = list.bytes;
    let stored = 0, next = 0;
    show("saving", `Saving: 0 of ${megabytes(list.bytes)}`);
    async function worker() {
      while (next < list.files.length) {
        const { url, bytes } = list.files[next++];
        const absolute = new URL(url, root).href;
        if (!(await cache.match(absolute))) await cache.add(absolute);
        stored += bytes;
        bar.value = stored;
        $("rr-offline-status").textContent = `Saving: ${megabytes(stored)} of ${megabytes(list.bytes)}`;
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()]);
    // A link the server replies to with a redirect (a module's case link records the case as opened):
    // offline, the worker replies with the same redirect, to the saved page.
    for (const [url, target] of Object.entries(list.aliases || {})) {
      await cache.put(new URL(url, root).href, Response.redirect(new URL(target, root).href, 302));
    }
    // The worker comes last: it serves only what is stored, and the copy is whole by now.
    await navigator.serviceWorker.register(config.worker);
    await navigator.serviceWorker.ready;
    await cache.put(COMPLETE, new Response(JSON.stringify({ bytes: list.bytes, files: list.files.length })));
    return { bytes: list.bytes, files: list.files.length };
  }

  function ready(copy) {
    show("ready", `Saved for offline: ${copy.files} files, ${megabytes(copy.bytes)} on this device.`);
  }

  if (!("serviceWorker" in navigator) || !window.caches) {
    $("rr-offline-save").disabled = true;
    $("rr-offline-status").textContent = "This browser cannot keep a copy here (it needs https).";
    return;
  }
  $("rr-offline-save").addEventListener("click", async () => {
    try {
      ready(await save());
    } catch (error) {
      show("failed", `Not saved (${error.message}); try again when the connection is better.`);
    }
  });
  $("rr-offline-remove").addEventListener("click", async () => {
    await caches.delete(cacheName);
    show("removed", "The offline copy is removed.");
  });
  isSaved().then((copy) => (copy ? ready(copy) : show("none", "")));
})();

// readingroom's service worker: pages, scripts and frames of the modules saved for offline use.
// The module page stores them (offline.js) in a cache named "readingroom-offline-<module>"; this
// worker only answers from those caches: pages from the network first (so a case that changed is
// seen when online), falling back to the saved copy, whatever their query (?module=); everything
// else, which is immutable (content-addressed frames, stage files and versioned modules; the
// server's stages are named by their key, in the query), from the saved copy first.
// One worker for both hosts: the static site writes it, `readingroom serve` serves it, each at the
// site's root.
const PREFIX = "readingroom-offline-";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function saved(request, ignoreSearch) {
  for (const name of (await caches.keys()).filter((n) => n.startsWith(PREFIX))) {
    const cache = await caches.open(name);
    const found = await cache.match(request, { ignoreSearch });
    if (found) return found;
    const url = new URL(request.url);
    if (!url.pathname.endsWith("/")) {  // a folder linked without its slash: the server would redirect
      const folder = await cache.match(`${url.origin}${url.pathname}/`);
      if (folder) return folder;
    }
  }
  return undefined;
}

/** A saved page fetched again online replaces its copy (a module page then shows the progress made). */
async function refresh(request, response) {
  for (const name of (await caches.keys()).filter((n) => n.startsWith(PREFIX))) {
    const cache = await caches.open(name);
    if (await cache.match(request)) await cache.put(request, response.clone());
  }
}

async function pageFirstFromNetwork(event) {
  const { request } = event;
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) event.waitUntil(refresh(request, response.clone()));
    return response;
  } catch (error) {
    return (await saved(request, true)) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(pageFirstFromNetwork(event));
  } else {
    event.respondWith(saved(request, false).then((found) => found || fetch(request)));
  }
});

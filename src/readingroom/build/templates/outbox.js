// Records a learner makes with no connection (question choices, time on task, tests, evaluations) wait in
// this browser's IndexedDB, which survives closing it, and are sent to the readingroom server
// (this script's data-rr-records URL) on every page load, when the connection returns, and as they
// are made. Each carries a key made here; the server stores a key once, so a record sent twice
// (a reply lost, two tabs sending at once) counts once. Pages use window.readingroomOutbox.add().
(() => {
  if (window.readingroomOutbox) return;
  const to = new URL(document.currentScript.dataset.rrRecords, location.href).href;
  const DB = "readingroom-outbox", STORE = "records", BATCH = 100, RETRY_MS = 60000;

  let database = null;
  function open() {
    database ||= new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return database;
  }

  /** One transaction on the records; resolves with ``work``'s request's result once committed. */
  async function transaction(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request ? request.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }
  const everything = () => transaction("readonly", (store) => store.getAll());

  function newKey() {  // crypto.randomUUID exists only on https; a hospital's static host may be plain http
    return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  let sending = Promise.resolve();
  function flush() {  // one pass at a time, each after the last: a record added meanwhile goes in the next
    sending = sending.then(send, send);
    return sending;
  }

  async function send() {
    const waiting = (await everything()).filter((r) => r.to === to && !r.refused).sort((a, b) => a.made - b.made);
    for (let i = 0; i < waiting.length && navigator.onLine !== false; i += BATCH) {
      const batch = waiting.slice(i, i + BATCH);
      let reply;
      try {
        reply = await fetch(to, {
          method: "POST", credentials: "include", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ records: batch.map(({ to: _, made: __, ...record }) => record) }),
        });
      } catch (_) {
        break;  // no connection after all: the "online" event or the next page load sends them
      }
      const found = await reply.json().catch(() => ({}));
      if (!reply.ok) return show(found.signin);
      await transaction("readwrite", (store) => {
        for (const key of found.landed || []) store.delete(key);
        for (const { key, reason } of found.refused || []) {  // kept, and shown, but never sent again
          const record = batch.find((r) => r.key === key);
          if (record) store.put({ ...record, refused: reason });
        }
      });
    }
    return show();
  }

  /** ``data-rr-outbox`` on <html> ("waiting" or "sent") and a line in each [data-rr-outbox-status]. */
  async function show(signin) {
    const mine = (await everything()).filter((r) => r.to === to);
    const waiting = mine.filter((r) => !r.refused).length, refused = mine.length - waiting;
    document.documentElement.dataset.rrOutbox = waiting ? "waiting" : "sent";
    for (const status of document.querySelectorAll("[data-rr-outbox-status]")) {
      status.replaceChildren();
      if (waiting) {
        status.append(`${waiting} record${waiting === 1 ? "" : "s"} made offline wait${waiting === 1 ? "s" : ""} to be sent`);
        if (signin) {
          const link = Object.assign(document.createElement("a"), { href: signin, textContent: "sign in" });
          status.append(": ", link, " to send them.");
        } else {
          status.append(" when the connection returns.");
        }
      }
      if (refused) status.append(` ${refused} could not be counted (the server refused them).`);
    }
  }

  window.readingroomOutbox = {
    /** Keep ``record`` ({kind, ...}) until the server has it; resolves once it is in IndexedDB. */
    async add(record) {
      await transaction("readwrite", (store) => store.put({ ...record, key: newKey(), to, made: Date.now() }));
      show();
      if (navigator.onLine !== false) flush();
    },
    flush,
  };
  window.addEventListener("online", flush);
  setInterval(() => { if (document.documentElement.dataset.rrOutbox === "waiting") flush(); }, RETRY_MS);
  flush();
})();

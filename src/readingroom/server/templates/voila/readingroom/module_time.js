(function () {  // opened from a module (?module=<name>): reading the case counts as time on task
  const module = new URLSearchParams(location.search).get("module");
  if (!module || !/^[a-z0-9][a-z0-9-]{0,99}$/.test(module)) return;
  const xsrf = (document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/) || [])[1];
  const outbox = window.readingroomOutbox;  // where records made here go when they cannot be sent now
  if (xsrf) {
    readingroomTimeOnTask(`{{ base }}modules/${module}/heartbeat`, decodeURIComponent(xsrf), module);
  } else if (outbox) {  // a static site sending records to a server: no heartbeat, time goes in the outbox
    readingroomTimeOnTask(null, "", module);
  }
  // The module page's link records the case as opened; offline, or on a static site, the outbox does.
  const opened = location.pathname.match(/\/cases\/([0-9a-f]{10})\/$/);
  if (outbox && opened && (!xsrf || navigator.onLine === false)) outbox.add({ kind: "open", module, case: opened[1] });
})();

(function () {  // opened from a module (?module=<name>): reading the case counts as time on task
  const module = new URLSearchParams(location.search).get("module");
  const xsrf = (document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/) || [])[1];
  if (module && /^[a-z0-9][a-z0-9-]{0,99}$/.test(module) && xsrf) {
    readingroomTimeOnTask(`{{ base }}modules/${module}/heartbeat`, decodeURIComponent(xsrf));
  }
})();

// The only code sent with each widget's state (Viewer, Question): it imports the real
// module once per page from its versioned URL, or, where no readingroom handler answers
// (plain `voila notebook.ipynb`, known from the kernel's environment, or an import that
// fails), asks the kernel for the module sources over the comm.
const VERSION = "__RR_VERSION__";
const MODULE = "__RR_MODULE__";
// false: the kernel's server has no readingroom handler (plain Voila), so no request is tried
const SERVED = __RR_SERVED__;

function baseUrl() {
  const el = document.getElementById("jupyter-config-data");
  let base = "/";
  if (el) { try { base = JSON.parse(el.textContent || "{}").baseUrl || "/"; } catch (_) { /* "/" */ } }
  return base.endsWith("/") ? base : base + "/";
}

/** Blob URL of module ``name``, its imports ("./x.js") pointed at their own blob URLs first. */
function linker(sources) {
  const urls = {};
  const urlOf = (name) => {
    if (!(name in sources)) throw new Error(`readingroom: the kernel sent no module ${name}`);
    urls[name] ||= URL.createObjectURL(new Blob(
      [sources[name].replace(/from\s+"\.\/([\w.-]+\.js)"/g, (_, dep) => `from "${urlOf(dep)}"`)],
      { type: "text/javascript" }));
    return urls[name];
  };
  return urlOf;
}

function viaComm(model) {
  return new Promise((resolve, reject) => {
    const onMsg = async (msg) => {
      if (!msg || msg.type !== "modules") return;
      model.off("msg:custom", onMsg);
      try {
        resolve(await import(linker(msg.sources)(MODULE)));
      } catch (error) { reject(error); }
    };
    model.on("msg:custom", onMsg);
    model.send({ type: "modules" });
  });
}

async function load(model) {
  const cache = (globalThis.__readingroomModules ||= {});
  const key = `${VERSION}/${MODULE}`;
  if (!cache[key]) {
    const url = new URL(`${baseUrl()}readingroom/static/${VERSION}/${MODULE}`, document.baseURI).href;
    cache[key] = SERVED ? import(url).then((mod) => ({ mod, http: true }), () => null) : Promise.resolve(null);
  }
  const loaded = await cache[key];
  return loaded || { mod: await viaComm(model), http: false };
}

export default {
  async render({ model, el }) {
    const { mod, http } = await load(model);
    return mod.render({ model, el, transport: http ? "http" : "comm" });
  },
};

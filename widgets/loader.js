// The only code sent with each viewer's state: it imports the real module once per
// page from its versioned URL, or, where no readingroom handler answers (plain
// `voila notebook.ipynb`), asks the kernel for the module sources over the comm.
const VERSION = "__RR_VERSION__";

function baseUrl() {
  const el = document.getElementById("jupyter-config-data");
  let base = "/";
  if (el) { try { base = JSON.parse(el.textContent || "{}").baseUrl || "/"; } catch (_) { /* "/" */ } }
  return base.endsWith("/") ? base : base + "/";
}

function viaComm(model) {
  return new Promise((resolve, reject) => {
    const onMsg = async (msg) => {
      if (!msg || msg.type !== "modules") return;
      model.off("msg:custom", onMsg);
      try {
        const js = (text) => URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
        const core = js(msg.sources["core.js"]);
        resolve(await import(js(msg.sources["viewer.js"].replace(/from\s+"\.\/core\.js"/, `from "${core}"`))));
      } catch (error) { reject(error); }
    };
    model.on("msg:custom", onMsg);
    model.send({ type: "modules" });
  });
}

async function load(model) {
  const cache = (globalThis.__readingroomViewer ||= {});
  if (!cache[VERSION]) {
    const url = new URL(`${baseUrl()}readingroom/static/${VERSION}/viewer.js`, document.baseURI).href;
    cache[VERSION] = import(url).then((mod) => ({ mod, http: true }), () => null);
  }
  const loaded = await cache[VERSION];
  return loaded || { mod: await viaComm(model), http: false };
}

export default {
  async render({ model, el }) {
    const { mod, http } = await load(model);
    return mod.render({ model, el, transport: http ? "http" : "comm" });
  },
};

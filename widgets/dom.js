// The one DOM helper every widget and page uses: an element with its properties, attributes,
// listeners and children in one call. Plain ES module, no dependencies.

/**
 * ``h("button", { type: "button", class: "x", text: "Go", onclick: f, disabled: true }, child, ...)``.
 * ``class``/``className`` and ``text``/``textContent`` set those properties; ``on<event>`` with a
 * function adds a listener; ``true`` sets an empty attribute and ``false``, null or undefined none;
 * anything else is an attribute. Children may be nodes, strings or arrays of them; null is skipped.
 * @param {string} tag @param {Record<string, any>} [props] @param {...any} children
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class" || k === "className") node.className = v;
    else if (k === "text" || k === "textContent") node.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, "");
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

/** Inject CSS once per document. */
export function ensureStyle(id, css) {
  if (document.getElementById(id)) return;
  document.head.append(h("style", { id, text: css }));
}

/** ``fn`` once calls stop coming for ``ms``; ``flush()`` runs a pending call now, ``cancel()`` drops it. */
export function debounce(fn, ms) {
  let t = 0, pending = false;
  const fire = () => { pending = false; fn(); };
  const run = () => { clearTimeout(t); pending = true; t = setTimeout(fire, ms); };
  run.flush = () => { clearTimeout(t); if (pending) fire(); };
  run.cancel = () => { clearTimeout(t); pending = false; };
  return run;
}

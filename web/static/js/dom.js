// Small DOM helpers shared by the live pages. User text only ever goes in via
// textContent (el's "text"), never as markup.

// Translated strings come from the page: data-t-<key> attributes rendered by Jinja. A
// count's string has its singular beside it, data-t-<key>-one (ngettext's form for 1), used
// when n is 1 ("1 visitor", not "1 visitors"); languages with one form give both alike.
export function translator(root) {
  return function t(key, vars = {}) {
    const name = "t" + key.replace(/(^|-)([a-z])/g, (_, __, c) => c.toUpperCase());
    const one = vars.n === 1 ? root.dataset[`${name}One`] : undefined;
    let text = one || root.dataset[name] || key;
    for (const [k, v] of Object.entries(vars)) text = text.split(`%(${k})s`).join(String(v));
    return text;
  };
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

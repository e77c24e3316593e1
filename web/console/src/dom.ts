/// <reference lib="dom" />
/**
 * The console's DOM helpers: elements built from text only (never HTML
 * strings, so nothing a server or an operator typed can become markup),
 * labelled form fields, tables, and progress bars with their figures.
 *
 * @module
 */

/** A child of {@link h}: text, an element, or nothing. */
export type Child = Node | string | number | null | undefined | false;

/**
 * Makes an element.
 *
 * @param tag the tag name.
 * @param attrs attributes (`on*` functions become listeners).
 * @param children text and elements.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | EventListener | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  }
  return el;
}

let fieldCount = 0;

/** A labelled input: the label's `for` names the input. */
export function field(
  label: string,
  attrs: Record<string, string | number | boolean | undefined>,
): { label: HTMLLabelElement; input: HTMLInputElement } {
  const id = `f${++fieldCount}`;
  const input = h("input", { id, ...attrs });
  return { label: h("label", { for: id }, label, input), input };
}

/** A table of rows, with a caption for screen readers. */
export function table(caption: string, head: string[], rows: Child[][]): HTMLTableElement {
  return h(
    "table",
    {},
    h("caption", { class: "sr" }, caption),
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}

/** A definition list of figures; each value carries `data-figure` for tests and tools. */
export function figures(items: [string, string, Child][]): HTMLDListElement {
  const dl = h("dl");
  for (const [key, label, value] of items) {
    dl.append(h("dt", {}, label), h("dd", { "data-figure": key }, value));
  }
  return dl;
}

let barCount = 0;

/** A pipeline stage: its name, a progress bar and `done / total`. */
export function stage(key: string, label: string, done: number, total: number): HTMLElement {
  const id = `p${++barCount}`;
  return h(
    "div",
    { class: "stage" },
    h("label", { for: id }, label),
    h("progress", { id, max: Math.max(total, 1), value: done, "data-stage": key }),
    h("span", { "data-figure": key }, `${done} / ${total}`),
  );
}

/** A titled section. */
export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", {}, h("h2", {}, title), ...children);
}

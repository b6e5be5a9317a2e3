// Building the page: elements from data, every value set as text (never parsed as HTML).

/**
 * Make an element: h("td", {className: "num"}, "42"). Children are nodes or strings (text nodes);
 * attributes are set with setAttribute except `className`, `hidden`, `disabled` and on* handlers.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "className") element.className = value;
    else if (name === "hidden" || name === "disabled") element[name] = Boolean(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

const LONG_RUN = /\S{16}(?=\S)/g;  // 16 characters of a longer unbroken word (a URL, a file name)

/** Text as nodes; a long unbroken word gets a <wbr> every 16 characters so it can wrap, even in a table. */
function textNodes(value) {
  const text = String(value);
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const run of text.matchAll(LONG_RUN)) {
    const end = run.index + run[0].length;
    fragment.append(text.slice(last, end), document.createElement("wbr"));
    last = end;
  }
  fragment.append(text.slice(last));
  return fragment;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : textNodes(child));
  }
}

/** Replace the children of `element` with `children`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A table with a caption, column headings and rows (arrays of cells: strings or nodes). */
export function table(caption, headings, rows, empty = "Nothing here.") {
  const head = h("thead", {}, h("tr", {}, headings.map((text) => h("th", {scope: "col"}, text))));
  const body = h("tbody", {}, rows.length
    ? rows.map((cells) => h("tr", {}, cells.map((cell, index) => h("td", {"data-label": headings[index]}, cell))))
    : h("tr", {}, h("td", {colspan: headings.length, className: "empty"}, empty)));
  const wide = headings.length >= 6 ? " wide" : "";  // becomes cards sooner (app.css)
  return h("div", {className: `table-wrap${wide}`}, h("table", {}, h("caption", {}, caption), head, body));
}

/** A link to another view of the page (routes live in the URL fragment). */
export function link(route, text) {
  return h("a", {href: `#${route}`}, text);
}

const DATE = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short", day: "numeric", timeZone: "UTC"});
const THIS_YEAR = new Intl.DateTimeFormat(undefined, {month: "short", day: "numeric", timeZone: "UTC"});
const MOMENT = new Intl.DateTimeFormat(undefined, {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"});

/** Format a YYYY-MM-DD date (or none) for people: without the year when it is this year's. */
export function day(value) {
  if (!value) return "—";
  const parsed = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime())) return String(value);
  const format = parsed.getUTCFullYear() === new Date().getUTCFullYear() ? THIS_YEAR : DATE;
  return format.format(parsed).replace(/ /g, "\u00a0");  // a date never breaks over two lines
}

/** Format a timestamp (or none) as a short local date and time. */
export function moment(value) {
  return value ? MOMENT.format(new Date(value)) : "—";
}

/** Say "1 manager", "2 managers". */
export function plural(value, noun) {
  return `${count(value)} ${noun}${Number(value) === 1 ? "" : "s"}`;
}

/** Format a count with the reader's digit grouping. */
export function count(value) {
  return Number(value || 0).toLocaleString();
}

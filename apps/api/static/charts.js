// Bar charts drawn as SVG by hand: no library, no inline style attribute (a bar's colour, when the server gives
// one, is set through the CSSOM, which the page's CSP allows).

const SVG = "http://www.w3.org/2000/svg";
const COMPACT = new Intl.NumberFormat(undefined, {notation: "compact", maximumFractionDigits: 1});
const CHARACTER_PX = 7.2;  // an average glyph of the 13 px axis font: enough to decide when labels would touch

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = String(text);
  return element;
}

/** The axis's top: four equal whole steps of 1, 2 or 5 times a power of ten (0, 2, 4, 6, 8; never 1.25). */
function niceMax(value) {
  const quarter = Math.max(value, 4) / 4;
  const magnitude = 10 ** Math.floor(Math.log10(quarter));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= quarter);
  return step * 4;
}

/** A number short enough for an axis or a bar: 950 stays, 1,250 becomes "1.3K", 1,003,000 "1M". */
export function short(value) {
  return Math.abs(value) < 1000 ? Number(value).toLocaleString() : COMPACT.format(value);
}

/** Split a label into lines of words that fit `width` px (at most two lines, the second cut with "…"). */
function lines(label, width) {
  const fit = Math.max(3, Math.floor(width / CHARACTER_PX));
  const out = [];
  for (const word of String(label).split(/\s+/)) {
    const last = out.length - 1;
    if (last >= 0 && `${out[last]} ${word}`.length <= fit) out[last] = `${out[last]} ${word}`;
    else out.push(word);
  }
  const kept = out.slice(0, 2).map((line) => (line.length > fit ? `${line.slice(0, fit - 1)}…` : line));
  if (out.length > 2) kept[1] = `${kept[1].slice(0, fit - 1)}…`;
  return kept;
}

/**
 * Draw `values` under `labels` as vertical bars in a 420 x 240 viewBox that scales to its container.
 * Axis and bar numbers are compact (full ones in each bar's title); labels wrap to two lines inside their slot.
 * Screen readers get the title and one text alternative listing every bar.
 */
export function barChart(title, labels, values, {labelOf = (label) => label, colourOf = () => ""} = {}) {
  const width = 420, height = 240, left = 44, right = 4, top = 16, bottom = 40;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const top_ = niceMax(Math.max(0, ...values.map(Number)));
  const summary = labels.map((label, index) => `${labelOf(label)}: ${Number(values[index]).toLocaleString()}`)
    .join(", ");
  const chart = svg("svg", {viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart",
                            "aria-label": `${title}. ${summary}`});
  chart.append(svg("title", {}, `${title}: ${summary}`));
  for (let tick = 0; tick <= 4; tick += 1) {
    const y = top + plotHeight - (plotHeight * tick) / 4;
    chart.append(svg("line", {x1: left, x2: width - right, y1: y, y2: y, class: "grid"}));
    chart.append(svg("text", {x: left - 6, y: y + 4, class: "axis", "text-anchor": "end"},
                     short(Math.round((top_ * tick) / 4))));
  }
  const slot = plotWidth / Math.max(labels.length, 1);
  const barWidth = Math.min(40, slot * 0.7);
  labels.forEach((label, index) => {
    const value = Number(values[index]) || 0;
    const barHeight = (plotHeight * value) / top_;
    const x = left + slot * index + (slot - barWidth) / 2;
    const bar = svg("rect", {x, y: top + plotHeight - barHeight, width: barWidth, height: Math.max(barHeight, 0),
                             rx: 2, class: "bar"});
    const colour = colourOf(label);
    if (colour) bar.style.fill = colour;
    bar.append(svg("title", {}, `${labelOf(label)}: ${value.toLocaleString()}`));
    chart.append(bar);
    const shown = short(value);
    if (value > 0 && shown.length * CHARACTER_PX <= slot + 2) {
      chart.append(svg("text", {x: x + barWidth / 2, y: top + plotHeight - barHeight - 4, class: "value",
                                "text-anchor": "middle"}, shown));
    }
    const text = svg("text", {x: x + barWidth / 2, y: height - bottom + 16, class: "axis", "text-anchor": "middle"});
    lines(labelOf(label), slot - 2).forEach((line, row) => {
      text.append(svg("tspan", {x: x + barWidth / 2, dy: row ? 15 : 0}, line));
    });
    chart.append(text);
  });
  return chart;
}

/**
 * Draw `values` as horizontal bars, one row per label, the label in words on the left: long labels ("In
 * progress", "Cancelled") stay whole and readable at any width. The value stands at the end of its bar. With
 * `hrefOf(label)` each row (its word, bar and number) is a link to that address: the list it counts.
 */
export function rowChart(title, labels, values,
                         {labelOf = (label) => label, colourOf = () => "", hrefOf = null} = {}) {
  const width = 420, left = 104, right = 56, row = 32, top = 6;
  const height = top * 2 + row * labels.length;
  const most = Math.max(1, ...values.map(Number));
  const summary = labels.map((label, index) => `${labelOf(label)}: ${Number(values[index]).toLocaleString()}`)
    .join(", ");
  const chart = svg("svg", {viewBox: `0 0 ${width} ${height}`, role: hrefOf ? "group" : "img", class: "chart",
                            "aria-label": `${title}. ${summary}`});
  chart.append(svg("title", {}, `${title}: ${summary}`));
  labels.forEach((label, index) => {
    const value = Number(values[index]) || 0;
    const y = top + row * index;
    const target = hrefOf
      ? svg("a", {href: hrefOf(label), "aria-label": `${labelOf(label)}: ${value.toLocaleString()}`}) : chart;
    if (hrefOf) chart.append(target);
    const length = ((width - left - right) * value) / most;
    target.append(svg("text", {x: left - 8, y: y + row / 2 + 5, class: "axis", "text-anchor": "end"},
                      lines(labelOf(label), left - 10)[0]));
    const bar = svg("rect", {x: left, y: y + 5, width: Math.max(length, 1), height: row - 10, rx: 2, class: "bar"});
    const colour = colourOf(label);
    if (colour) bar.style.fill = colour;
    bar.append(svg("title", {}, `${labelOf(label)}: ${value.toLocaleString()}`));
    target.append(bar);
    target.append(svg("text", {x: left + Math.max(length, 1) + 6, y: y + row / 2 + 5, class: "value"}, short(value)));
  });
  return chart;
}

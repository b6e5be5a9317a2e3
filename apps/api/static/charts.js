// Bar charts drawn as SVG by hand: no library, no inline style (colours come from classes in app.css).

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = String(text);
  return element;
}

function niceMax(value) {
  if (value <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 2, 2.5, 5, 10].map((step) => step * magnitude);
  return steps.find((step) => step >= value) || 10 * magnitude;
}

/**
 * Draw `values` under `labels` as vertical bars in a 420 x 230 viewBox that scales to its container.
 * Screen readers get the title and one text alternative listing every bar; with `hrefOf(label)` each bar is a
 * link to that address.
 */
export function barChart(title, labels, values, {labelOf = (label) => label, classOf = () => "bar", hrefOf = null} = {}) {
  const width = 420, height = 230, left = 36, right = 4, top = 14, bottom = 30;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const top_ = niceMax(Math.max(0, ...values));
  const summary = labels.map((label, index) => `${labelOf(label)}: ${values[index]}`).join(", ");
  const chart = svg("svg", {viewBox: `0 0 ${width} ${height}`, role: hrefOf ? "group" : "img", class: "chart",
                            "aria-label": `${title}. ${summary}`});
  chart.append(svg("title", {}, `${title}: ${summary}`));
  for (let tick = 0; tick <= 4; tick += 1) {
    const y = top + plotHeight - (plotHeight * tick) / 4;
    chart.append(svg("line", {x1: left, x2: width - right, y1: y, y2: y, class: "grid"}));
    chart.append(svg("text", {x: left - 6, y: y + 4, class: "axis", "text-anchor": "end"},
                     Math.round((top_ * tick) / 4).toLocaleString()));
  }
  const slot = plotWidth / Math.max(labels.length, 1);
  const barWidth = Math.min(40, slot * 0.7);
  labels.forEach((label, index) => {
    const value = Number(values[index]) || 0;
    const barHeight = (plotHeight * value) / top_;
    const x = left + slot * index + (slot - barWidth) / 2;
    const bar = svg("rect", {x, y: top + plotHeight - barHeight, width: barWidth, height: Math.max(barHeight, 0),
                             rx: 2, class: classOf(label)});
    bar.append(svg("title", {}, `${labelOf(label)}: ${value.toLocaleString()}`));
    if (hrefOf) {  // the bar opens the list it counts
      const target = svg("a", {href: hrefOf(label), "aria-label": `${labelOf(label)}: ${value.toLocaleString()} jobs`});
      target.append(bar);
      chart.append(target);
    } else {
      chart.append(bar);
    }
    if (value > 0) {
      chart.append(svg("text", {x: x + barWidth / 2, y: top + plotHeight - barHeight - 4, class: "value",
                                "text-anchor": "middle"}, value.toLocaleString()));
    }
    chart.append(svg("text", {x: x + barWidth / 2, y: height - bottom + 16, class: "axis", "text-anchor": "middle"},
                     labelOf(label)));
  });
  return chart;
}

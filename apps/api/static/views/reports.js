// Time per step for managers: per process, machine or operator over a date range, from
// GET /api/reports/step-times (steps, median and p90 worked time, paused time by reason).
import * as api from "../api.js";
import {count, fill, h, table} from "../dom.js";
import {explain, retryButton} from "../live.js";
import {clock} from "../steptime.js";
import {atLeast, pauseReasons} from "../steps.js";

const GROUPS = [["process", "Process"], ["machine", "Machine"], ["operator", "Operator"]];

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function pausedBy(seconds, labels) {
  const parts = Object.entries(seconds || {}).filter(([, value]) => value > 0)
    .map(([code, value]) => `${labels.get(code) || code} ${clock(value)}`);
  return parts.length ? parts.join(" · ") : "—";
}

/** Draw the report form and its table in `main`. */
export function render(main, context) {
  if (!atLeast(context.user, "manager")) {
    fill(main, h("h1", {}, "Reports"), h("p", {}, "Reports are for managers."));
    main.removeAttribute("aria-busy");
    return () => {};
  }
  const today = new Date();
  const from = h("input", {id: "report-from", type: "date", value: isoDay(new Date(today - 29 * 86400000))});
  const to = h("input", {id: "report-to", type: "date", value: isoDay(today)});
  const by = h("select", {id: "report-by"}, GROUPS.map(([value, text]) => h("option", {value}, text)));
  const result = h("section", {className: "card", id: "report", "aria-live": "polite"});
  const form = h("form", {className: "filters", onsubmit: (event) => { event.preventDefault(); show(); }},
    h("div", {}, h("label", {for: "report-from"}, "From"), from),
    h("div", {}, h("label", {for: "report-to"}, "To"), to),
    h("div", {}, h("label", {for: "report-by"}, "Per"), by),
    h("button", {type: "submit", className: "primary"}, "Show"));
  fill(main, h("h1", {}, "Time per step"), form, result);

  async function show() {
    const query = new URLSearchParams({from: from.value, to: to.value, by: by.value});
    fill(result, h("p", {className: "loading"}, "Loading…"));
    try {
      const [answer, labels] = await Promise.all([api.get(`/api/reports/step-times?${query}`),
                                                   pauseReasons().catch(() => new Map())]);
      const group = GROUPS.find(([value]) => value === by.value)[1];
      fill(result, table(`Time per ${group.toLowerCase()}, ${from.value} to ${to.value}`,
        [group, "Steps", "Worked (median)", "Worked (p90)", "Paused, by reason"],
        answer.items.map((item) => [item.label || String(item.key), count(item.steps),
          clock(item.worked_median_seconds || 0), clock(item.worked_p90_seconds || 0),
          pausedBy(item.paused_seconds_by_reason, labels)]),
        "No steps were worked in these dates."));
    } catch (error) {
      if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
      fill(result, h("p", {className: "error"}, `${explain(error)} `), retryButton(show));
    } finally {
      main.removeAttribute("aria-busy");
    }
    return undefined;
  }

  show();
  return () => {};
}

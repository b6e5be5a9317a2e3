// The manager's dashboard: the stats as tiles, two SVG charts, recent and overdue jobs; it follows the shop by
// itself through conditional polling (If-None-Match on the cached dashboard routes: unchanged is a 304).
import * as api from "../api.js";
import {barChart} from "../charts.js";
import {badge, count, day, fill, h, link, plural, table} from "../dom.js";
import {keepFresh} from "../live.js";
import {showTimers, timersSection} from "./timers.js";

export const POLL_MS = 2500;        // a job created anywhere shows within invalidation (<= 1 s) + one period
const FULL_EVERY_MS = 60000;        // charts and overdue jobs: when the counts move, and at least this often
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const STATUSES = ["draft", "active", "in_progress", "on_hold", "completed", "cancelled"];

function tile(key, label, value, detail, className = "") {
  return h("div", {className: `tile ${className}`, "data-stat": key},
    h("span", {className: "label"}, label),
    h("span", {className: "value"}, count(value)),
    detail ? h("span", {className: "detail"}, detail) : null);
}

function tiles(stats) {
  const {jobs, tasks, machines, users} = stats;
  const inService = machines.active + machines.idle + machines.maintenance + machines.offline;
  return [
    tile("jobs.total", "Jobs", jobs.total, "all statuses", "lead"),
    ...STATUSES.map((status) => tile(`jobs.${status}`, status.replace("_", " "), jobs[status], null, `s-${status}`)),
    tile("jobs.overdue", "Overdue", jobs.overdue, "past due, still open", jobs.overdue ? "alert" : ""),
    tile("tasks.open", "My open tasks", tasks.pending + tasks.in_progress,
         `${count(tasks.in_progress)} running · ${count(tasks.pending)} waiting`),
    tile("machines.total", "Machines", inService,
         `${count(machines.active)} active · ${count(machines.idle)} idle · ${count(machines.maintenance)} maint. · ` +
         `${count(machines.offline)} offline`),
    tile("users.active", "Active users", users.active,
         `${plural(users.managers, "manager")} · ${plural(users.operators, "operator")}`),
  ];
}

function monthLabel(label) {
  return MONTHS[Number(String(label).split("-")[1]) - 1] || label;
}

function jobRows(items, withDue) {
  return items.map((job) => [
    link(`/jobs/${Number(job.id)}`, job.job_number), job.title, job.customer_name, badge(job.status),
    day(withDue ? job.due_date : String(job.created_at).slice(0, 10))]);
}

/** Draw the dashboard in `main` and keep it current; return the function that stops it. */
export function render(main, context) {
  const parts = {
    tiles: h("section", {className: "tiles", "aria-label": "Counts"}),
    byStatus: h("figure", {className: "card chart-card"}),
    byMonth: h("figure", {className: "card chart-card"}),
    recent: h("section", {className: "card", id: "recent-jobs"}),
    overdue: h("section", {className: "card", id: "overdue-jobs"}),
    timers: timersSection(),
    updated: h("p", {className: "updated", "aria-live": "off"}),
  };
  fill(main, h("h1", {}, "Dashboard"), parts.updated, parts.tiles,
       h("div", {className: "charts"}, parts.byStatus, parts.byMonth),
       h("div", {className: "tables"}, parts.recent, parts.overdue, parts.timers));
  let lastFull = 0;

  async function refreshCharts() {
    const [byStatus, byMonth, overdue] = await Promise.all([
      api.getFresh("/api/dashboard/chart/jobs-by-status"),
      api.getFresh("/api/dashboard/chart/jobs-by-month"),
      api.get("/api/jobs?overdue=true&sort=due_date&order=asc&per_page=10"),
      showTimers(parts.timers),
    ]);
    if (byStatus.changed || !parts.byStatus.firstChild) {
      fill(parts.byStatus, barChart("Jobs by status", byStatus.body.labels, byStatus.body.values, {
        labelOf: (label) => label.replace("_", " "), classOf: (label) => `bar s-${label}`}),
      h("figcaption", {}, "Jobs by status"));
    }
    if (byMonth.changed || !parts.byMonth.firstChild) {
      fill(parts.byMonth, barChart("Jobs created per month", byMonth.body.labels, byMonth.body.values,
        {labelOf: monthLabel}), h("figcaption", {}, "Jobs created per month (UTC)"));
    }
    fill(parts.overdue, table("Overdue jobs", ["Job", "Title", "Customer", "Status", "Due"],
                              jobRows(overdue.items, true), "No overdue jobs."));
    lastFull = Date.now();
  }

  async function poll() {
    const [stats, recent] = await Promise.all([
      api.getFresh("/api/dashboard/stats"), api.getFresh("/api/dashboard/recent-jobs?limit=10")]);
    if (stats.changed || !parts.tiles.firstChild) {
      const first = !parts.tiles.firstChild;
      fill(parts.tiles, tiles(stats.body));
      // A User Timing mark for bench/page_cost.py: page load to the first numbers.
      if (first && !performance.getEntriesByName("first-numbers").length) performance.mark("first-numbers");
    }
    if (recent.changed || !parts.recent.firstChild) {
      fill(parts.recent, table("Recent jobs", ["Job", "Title", "Customer", "Status", "Created"],
                               jobRows(recent.body.items, false), "No jobs yet."));
    }
    if (stats.changed || !lastFull || Date.now() - lastFull > FULL_EVERY_MS) await refreshCharts();
    fill(parts.updated, `Updated ${new Date().toLocaleTimeString()}`);
  }

  return keepFresh(poll, POLL_MS, context);
}

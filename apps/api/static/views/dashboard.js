// The manager's dashboard: the stats as tiles, two SVG charts, recent and overdue jobs; it follows the shop by
// itself through conditional polling (If-None-Match on the cached dashboard routes: unchanged is a 304).
import * as api from "../api.js";
import {barChart, rowChart} from "../charts.js";
import {count, day, fill, h, link, plural, table} from "../dom.js";
import {keepFresh} from "../live.js";
import {badge, codes, statusOf} from "../rules.js";
import {showTimers, timersSection} from "./timers.js";

export const POLL_MS = 2500;        // a job created anywhere shows within invalidation (<= 1 s) + one period
const FULL_EVERY_MS = 60000;        // charts and overdue jobs: when the counts move, and at least this often
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// What each tile opens: the list it counts.
const TILE_LINKS = {"jobs.total": "#/jobs", "jobs.overdue": "#/jobs?overdue=true", "tasks.open": "#/queue",
                    "machines.total": "#/machines"};

function tile(key, label, value, detail, className = "") {
  const status = key.startsWith("jobs.") && codes("job").includes(key.slice(5)) ? key.slice(5) : null;
  const href = status ? `#/jobs?status=${status}` : TILE_LINKS[key];
  return h(href ? "a" : "div", {className: `tile ${className}`, "data-stat": key, href},
    h("span", {className: "label"}, label),
    h("span", {className: "value"}, count(value)),
    detail ? h("span", {className: "detail"}, detail) : null);
}

function statusTile(code, value) {
  const status = statusOf("job", code);
  const element = tile(`jobs.${code}`, `${status.mark} ${status.label}`.trim(), value, null, "status");
  if (status.colour) element.style.borderLeftColor = status.colour;
  return element;
}

function tiles(stats) {
  const {jobs, tasks, machines, users} = stats;
  const inService = codes("machine").reduce((sum, code) => sum + (machines[code] || 0), 0);
  return [
    tile("jobs.total", "Jobs", jobs.total, "all statuses", "lead"),
    ...codes("job").map((code) => statusTile(code, jobs[code])),
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
    link(`/jobs/${Number(job.id)}`, job.job_number), job.title, job.customer_name, badge("job", job.status),
    day(withDue ? job.due_date : String(job.created_at).slice(0, 10))]);
}

const OVERDUE_HEADINGS = ["Job", "Title", "Customer", "Status", "Priority", "Due", "Late"];

/** The overdue jobs as the API orders them: those that need action first, and those on hold apart. */
async function overdueJobs() {
  return (await api.getFresh("/api/dashboard/overdue-jobs?limit=10")).body;
}

function lateBy(job) {
  const days = job.days_overdue;
  return days === 1 ? "1 day" : `${count(days)} days`;
}

function overdueRows(items) {
  return items.map((job) => [link(`/jobs/${Number(job.id)}`, job.job_number), job.title, job.customer_name,
    badge("job", job.status), badge("priority", job.priority), day(job.due_date), lateBy(job)]);
}

function overdueTables(overdue) {
  const counts = overdue.counts || {};
  const shown = (items, total) => (total > items.length ? ` (${items.length} of ${count(total)})` : "");
  return [table(`Overdue: needs action${shown(overdue.items, counts.needs_action)}`, OVERDUE_HEADINGS,
                overdueRows(overdue.items), "Nothing overdue needs action."),
    table(`Overdue, on hold${shown(overdue.on_hold, counts.on_hold)}`, OVERDUE_HEADINGS,
          overdueRows(overdue.on_hold), "No overdue job is on hold.")];
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
      overdueJobs(),
      showTimers(parts.timers),
    ]);
    if (byStatus.changed || !parts.byStatus.firstChild) {
      fill(parts.byStatus, rowChart("Jobs by status", byStatus.body.labels, byStatus.body.values, {
        labelOf: (label) => statusOf("job", label).label, colourOf: (label) => statusOf("job", label).colour,
        hrefOf: (label) => `#/jobs?status=${encodeURIComponent(label)}`}),
      h("figcaption", {}, "Jobs by status"));
    }
    if (byMonth.changed || !parts.byMonth.firstChild) {
      fill(parts.byMonth, barChart("Jobs created per month", byMonth.body.labels, byMonth.body.values,
        {labelOf: monthLabel}), h("figcaption", {}, "Jobs created per month (UTC)"));
    }
    fill(parts.overdue, overdueTables(overdue));
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

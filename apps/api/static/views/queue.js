// The operator's queue: a "Working now" card at the top holding the step being worked (so its Pause and
// Complete stay where the hand is), then every assigned step as a card, paged to its end with Load more and a
// count "N of TOTAL", filtered by machine and status. Notifications sit collapsed beside the heading.
import * as api from "../api.js";
import {count, fill, h, link, moment} from "../dom.js";
import {keepFresh, notice} from "../live.js";
import {rules} from "../rules.js";
import {asking, stepCard} from "../stepcard.js";
import {machineNames, processesOf} from "../steps.js";

export const NOTIFICATIONS_MS = 10000;
export const PAGE = 50;
// The statuses of a step being worked (in progress, paused): neither waiting nor finished.
const WORKING = rules.step_statuses.map((status) => status.code)
  .filter((code) => code !== "pending" && !rules.closed_step_statuses.includes(code));

function choice(id, text, options, onchange) {
  const select = h("select", {id, onchange}, options.map(([value, label]) => h("option", {value}, label)));
  return [h("label", {for: id}, text), select];
}

/** Draw the queue in `main`; return the function that stops its loops. */
export function render(main, context) {
  const {user} = context;
  const working = h("section", {className: "working", id: "working", "aria-labelledby": "working-title", hidden: true});
  const inbox = h("details", {className: "inbox", id: "notifications"});
  const filters = h("form", {className: "filters", "aria-label": "Filter my steps"});
  const list = h("section", {className: "cards", id: "queue", "aria-label": "My steps, most urgent first"});
  const tally = h("p", {className: "tally", id: "queue-count", "aria-live": "polite"});
  const more = h("button", {type: "button", className: "quiet more", hidden: true, onclick: () => loadMore()}, "Load more");
  fill(main, h("div", {className: "heading"}, h("h1", {}, "My queue"), inbox), working, filters, list, tally, more);
  let items = [], running = [], touched = null, cursor = null, total = 0, generation = 0, newest = null, lookups = null;
  const filter = {machine_id: "", status: ""};

  function query(perPage, after) {
    const params = new URLSearchParams({per_page: String(perPage)});
    if (filter.machine_id) params.set("machine_id", filter.machine_id);
    if (filter.status) params.set("status", filter.status);
    if (after) params.set("cursor", after);
    return `/api/me/steps?${params}`;
  }

  async function setUp() {
    lookups = lookups || await Promise.all([processesOf(user), machineNames()]);
    if (!filters.firstChild) {
      const [, machines] = lookups;
      const changed = (name) => (event) => { filter[name] = event.target.value;
        items = [];
        reload().catch((error) => notice(error.message, "error"));
      };
      fill(filters,
        h("div", {}, ...choice("filter-machine", "Machine", [["", "All machines"], ...machines], changed("machine_id"))),
        h("div", {}, ...choice("filter-status", "Status", [["", "All statuses"],
          ...rules.step_statuses.map((status) => [status.code, status.label])], changed("status"))));
    }
    return lookups;
  }

  function card(step, [processes, machines]) {
    return stepCard(step, {user, processes, machines, jobStatus: step.job_status, context, done: afterMove});
  }

  function draw(workedSteps, shared) {
    // the step last tapped leads Working now: its Pause and Complete are where the hand is
    const runningSteps = [...workedSteps].sort((one, other) => (other.id === touched) - (one.id === touched));
    const runningIds = new Set(runningSteps.map((step) => step.id));
    working.hidden = !runningSteps.length;
    fill(working, h("h2", {id: "working-title"}, "Working now"), runningSteps.map((step) => card(step, shared)));
    const shown = items.filter((step) => !runningIds.has(step.id));
    fill(list, shown.length ? shown.map((step) => card(step, shared))
      : h("p", {className: "hint empty"}, items.length ? "Everything here is in Working now."
        : filter.machine_id || filter.status ? "No steps of yours match these filters." : "No steps assigned to you."));
    fill(tally, `${count(items.length)} of ${count(total)}`);
    more.hidden = !cursor;
  }

  /** Read the working steps and as many list items as are shown now (at least one page), then draw. */
  async function reload() {
    const mine = ++generation;
    const shared = await setUp();
    const wanted = Math.max(PAGE, items.length);
    const workingNow = Promise.all(WORKING.map((status) => api.get(`/api/me/steps?status=${status}&per_page=20`)));
    let loaded = [], after = null, page;
    do {
      page = await api.get(query(Math.min(100, wanted - loaded.length), after));
      loaded = loaded.concat(page.items);
      after = page.pagination.next_cursor;
    } while (after && loaded.length < wanted);
    const runningSteps = (await workingNow).flatMap((answer) => answer.items);
    if (mine !== generation) return;
    running = runningSteps;
    items = loaded;
    cursor = after;
    total = page.pagination.total;
    draw(runningSteps, shared);
  }

  async function loadMore() {
    if (!cursor) return;
    more.disabled = true;
    try {
      const page = await api.get(query(PAGE, cursor));
      items = items.concat(page.items);
      cursor = page.pagination.next_cursor;
      total = page.pagination.total;
      draw(running, lookups);
    } catch (error) {
      if (error instanceof api.SessionEnded) context.sessionEnded(error.message);
      else notice(`${error.message} Try Load more again.`, "error");
    } finally {
      more.disabled = false;
    }
  }

  async function afterMove(step, outcome) {
    touched = step.id;
    try {
      await reload();
      const again = main.querySelector(`[data-step-id="${Number(step.id)}"]`);
      if (outcome === "conflict" && again) again.classList.add("changed");
      const top = working.getBoundingClientRect().top;
      if (!working.hidden && (top < 0 || top > window.innerHeight / 2)) working.scrollIntoView({block: "start"});
    } catch (error) {
      if (error instanceof api.SessionEnded) context.sessionEnded(error.message);
      else if (outcome !== "queued") notice(`${error.message} The list is shown again when the server answers.`, "error");
    }
  }

  async function checkInbox() {
    const page = await api.get("/api/notifications?unread=true&per_page=5");
    const first = page.items.length ? page.items[0].id : 0;
    if (newest === null || first !== newest) {  // new work or a changed job: show the queue as it is now
      if (asking(main)) return;  // unless a Skip or a Pause is being answered: the next period does it
      await reload();
    }
    newest = first;
    const open = inbox.open;
    const markAll = page.unread ? h("button", {type: "button", className: "quiet", onclick: async () => {
      await api.write("POST", "/api/notifications/read-all");
      newest = null;
      await checkInbox();
    }}, "Mark all read") : null;
    fill(inbox, h("summary", {}, "Notifications ", h("span", {className: page.unread ? "count" : "count zero",
      id: "unread-count", "aria-label": `${page.unread} unread`}, String(page.unread))),
    h("div", {className: "inbox-body"}, page.items.length ? h("ul", {}, page.items.map((item) => h("li", {},
      item.job_id ? link(`/jobs/${Number(item.job_id)}`, item.message) : item.message,
      h("time", {datetime: item.created_at}, ` · ${moment(item.created_at)}`))))
      : h("p", {className: "hint"}, "No unread notifications."), markAll));
    inbox.open = open;
  }

  const stop = keepFresh(checkInbox, NOTIFICATIONS_MS, context);
  const onSent = () => reload().catch(() => {});
  window.addEventListener("printshop:sent", onSent);
  return () => {
    stop();
    window.removeEventListener("printshop:sent", onSent);
  };
}

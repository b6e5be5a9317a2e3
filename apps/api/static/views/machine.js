// Machines: the list, and one machine's queue (its running and waiting steps in the order to work them) as
// cards with their actions, paged to its end with Load more and a count "N of TOTAL".
import * as api from "../api.js";
import {count, fill, h, link, table} from "../dom.js";
import {keepFresh, notice} from "../live.js";
import {statusOf} from "../rules.js";
import {asking, stepCard} from "../stepcard.js";
import {processesOf} from "../steps.js";

export const QUEUE_MS = 15000;
export const PAGE = 50;
let names = null;

/** Return a Map of machine id -> name (read once per page load; machines rarely change). */
export function machineNames() {
  names = names || api.get("/api/machines?per_page=100")
    .then((page) => new Map(page.items.map((machine) => [machine.id, machine.name])))
    .catch((error) => { names = null; throw error; });
  return names;
}

function machineBadge(status) {  // machine statuses are not among the served rules: the word alone
  return h("span", {className: "badge machine-status"}, statusOf("machine", status).label);
}

function renderList(main, context) {
  const section = h("section", {className: "card"});
  fill(main, h("h1", {}, "Machines"), section);
  return keepFresh(async () => {
    const page = await api.get("/api/machines?per_page=100");
    fill(section, table("Machines in the shop", ["Machine", "Type", "Status"], page.items.map((machine) => [
      link(`/machines/${Number(machine.id)}`, machine.name), machine.machine_type, machineBadge(machine.status)]),
    "No machines."));
  }, QUEUE_MS, context);
}

function renderQueue(main, machineId, context) {
  const {user} = context;
  const title = h("h1", {}, "Machine queue");
  const section = h("section", {className: "cards", id: "machine-queue", "aria-label": "Running and waiting"});
  const tally = h("p", {className: "tally", id: "machine-count", "aria-live": "polite"});
  const more = h("button", {type: "button", className: "quiet more", hidden: true, onclick: () => loadMore()}, "Load more");
  fill(main, h("p", {}, link("/machines", "← All machines")), title, section, tally, more);
  let items = [], cursor = null, total = 0, processes = null, machines = null;

  function draw() {
    fill(section, items.length ? items.map((step) => stepCard(step, {user, processes, machines,
      jobStatus: step.job_status, context, done: () => load(true).catch(() => {})}))
      : h("p", {className: "hint empty"}, "Nothing waiting on this machine."));
    fill(tally, `${count(items.length)} of ${count(total)}`);
    more.hidden = !cursor;
  }

  async function load(force) {
    if (!force && asking(section)) return;  // a Skip or a Pause is being answered: the next period redraws
    const wanted = Math.max(PAGE, items.length);
    const [machine, known, names_] = await Promise.all([api.get(`/api/machines/${machineId}`), processesOf(user),
                                                         machineNames()]);
    let loaded = [], after = null, page;
    do {
      const next = after ? `&cursor=${encodeURIComponent(after)}` : "";
      page = await api.get(`/api/machines/${machineId}/queue?per_page=${Math.min(100, wanted - loaded.length)}${next}`);
      loaded = loaded.concat(page.items);
      after = page.pagination.next_cursor;
    } while (after && loaded.length < wanted);
    [items, cursor, total, processes, machines] = [loaded, after, page.pagination.total, known, names_];
    fill(title, `${machine.name} `, machineBadge(machine.status));
    draw();
  }

  async function loadMore() {
    more.disabled = true;
    try {
      const page = await api.get(`/api/machines/${machineId}/queue?per_page=${PAGE}&cursor=${encodeURIComponent(cursor)}`);
      [items, cursor, total] = [items.concat(page.items), page.pagination.next_cursor, page.pagination.total];
      draw();
    } catch (error) {
      if (error instanceof api.SessionEnded) context.sessionEnded(error.message);
      else notice(`${error.message} Try Load more again.`, "error");
    } finally {
      more.disabled = false;
    }
  }

  return keepFresh(load, QUEUE_MS, {...context, notFound: () => fill(main, h("h1", {}, "Machine not found"),
    h("p", {}, "No machine has this number. ", link("/machines", "All machines")))});
}

/** Draw the machine list, or one machine's queue when the route names it. */
export function render(main, context) {
  const [machineId] = context.params;
  return machineId ? renderQueue(main, Number(machineId), context) : renderList(main, context);
}

// Machines: the list with what runs and waits on each (managers change a status there), and one machine's
// queue (its running and waiting steps in the order to work them) as cards with their actions, paged to its
// end with Load more and a count "N of TOTAL".
import * as api from "../api.js";
import {count, fill, h, link, table} from "../dom.js";
import {busy} from "../forms.js";
import {keepFresh, notice} from "../live.js";
import {badge, codes, statusOf} from "../rules.js";
import {asking, stepCard} from "../stepcard.js";
import {atLeast, machineNames, processesOf} from "../steps.js";

export const QUEUE_MS = 15000;
export const PAGE = 50;

const NEXT_SHOWN = 3;  // waiting steps named in the list; the machine's page shows them all

/** What runs and waits on a machine, from its queue: [running steps, waiting steps, how many wait]. */
async function workOn(machineId) {
  const page = await api.get(`/api/machines/${Number(machineId)}/queue?per_page=50`);
  const running = page.items.filter((step) => step.status === "in_progress");
  const waiting = page.items.filter((step) => step.status !== "in_progress");
  return [running, waiting, page.pagination.total - running.length];
}

function stepLinks(steps) {
  return h("span", {}, steps.flatMap((step, at) => [at ? ", " : "",
    link(`/jobs/${Number(step.job_id)}`, `${step.job_number} ${step.name}`)]));
}

function statusChange(machine, context, reload) {
  const select = h("select", {id: `machine-status-${machine.id}`},
    codes("machine").map((code) => h("option", {value: code, selected: code === machine.status},
                                     statusOf("machine", code).label)));
  const button = h("button", {type: "submit"}, "Change status");
  return h("form", {className: "inline", onsubmit: (event) => {
    event.preventDefault();
    busy(button, async () => {
      try {
        await api.write("PATCH", `/api/machines/${Number(machine.id)}`, {status: select.value});
        notice(`${machine.name} is now ${statusOf("machine", select.value).label.toLowerCase()}.`, "ok");
      } catch (error) {
        if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
        notice(error.message, "error");
      }
      return reload().catch(() => {});
    });
  }}, h("label", {for: select.id, className: "visually-hidden"}, `Status of ${machine.name}`), select, button);
}

function renderList(main, context) {
  const manager = atLeast(context.user, "manager");
  const section = h("section", {className: "card"});
  fill(main, h("h1", {}, "Machines"), section);
  async function load() {
    if (section.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
    const page = await api.get("/api/machines?per_page=100");
    const work = await Promise.all(page.items.map((machine) => workOn(machine.id)));
    const headings = ["Machine", "Type", "Status", "Running", "Waiting", ...(manager ? ["Change status"] : [])];
    fill(section, table("Machines in the shop", headings, page.items.map((machine, index) => {
      const [running, waiting, waitingTotal] = work[index];
      return [link(`/machines/${Number(machine.id)}`, machine.name), machine.machine_type,
        badge("machine", machine.status),
        running.length ? stepLinks(running) : "—",
        waiting.length ? h("span", {}, `${count(waitingTotal)}: `, stepLinks(waiting.slice(0, NEXT_SHOWN)),
          waitingTotal > NEXT_SHOWN ? " …" : "") : "0", ...(manager ? [statusChange(machine, context, load)] : [])];
    }), "No machines."));
  }
  return keepFresh(load, QUEUE_MS, context);
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
    fill(title, `${machine.name} `, badge("machine", machine.status));
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

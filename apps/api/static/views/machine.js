// Machines: the list with what runs and waits on each (managers change a status there), and one machine's
// queue (its running and waiting steps in the order to work them).
import * as api from "../api.js";
import {count, day, fill, h, link, table} from "../dom.js";
import {busy} from "../forms.js";
import {keepFresh, notice} from "../live.js";
import {badge, codes, statusOf} from "../rules.js";
import {atLeast, move, moveButtons, movesFor, processesOf} from "../steps.js";

export const QUEUE_MS = 15000;
let names = null;

/** Return a Map of machine id -> name (read once per page load; machines rarely change). */
export function machineNames() {
  names = names || api.get("/api/machines?per_page=100")
    .then((page) => new Map(page.items.map((machine) => [machine.id, machine.name])))
    .catch((error) => { names = null; throw error; });
  return names;
}

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
  const section = h("section", {className: "card", id: "machine-queue"});
  fill(main, h("p", {}, link("/machines", "← All machines")), title, section);

  async function load() {
    const [machine, page, processes] = await Promise.all([
      api.get(`/api/machines/${machineId}`), api.get(`/api/machines/${machineId}/queue?per_page=50`),
      processesOf(user)]);
    fill(title, `${machine.name} `, badge("machine", machine.status));
    fill(section, table(`Running and waiting on ${machine.name}`,
      ["Job", "Title", "Customer", "Due", "Priority", "Step", "Status", ""],
      page.items.map((step) => {
        const moves = movesFor(user, step, step.job_status, processes);
        return [link(`/jobs/${Number(step.job_id)}`, step.job_number), step.title, step.customer_name,
          day(step.due_date), badge("priority", step.priority), `${step.step_order}. ${step.name}`, badge("step", step.status),
          moves.length ? moveButtons(moves, `${step.name} of job ${step.job_number}`, async (status, label) => {
            await move(step, status, step.etag, label, context);
            await load().catch(() => {});
          }) : ""];
      }), "Nothing waiting on this machine."));
  }

  return keepFresh(load, QUEUE_MS, context);
}

/** Draw the machine list, or one machine's queue when the route names it. */
export function render(main, context) {
  const [machineId] = context.params;
  return machineId ? renderQueue(main, Number(machineId), context) : renderList(main, context);
}

// Machines: the list, and one machine's queue (its running and waiting steps in the order to work them).
import * as api from "../api.js";
import {day, fill, h, link, table} from "../dom.js";
import {badge} from "../rules.js";
import {keepFresh} from "../live.js";
import {move, moveButtons, movesFor, processesOf} from "../steps.js";

export const QUEUE_MS = 15000;
let names = null;

/** Return a Map of machine id -> name (read once per page load; machines rarely change). */
export function machineNames() {
  names = names || api.get("/api/machines?per_page=100")
    .then((page) => new Map(page.items.map((machine) => [machine.id, machine.name])))
    .catch((error) => { names = null; throw error; });
  return names;
}

function renderList(main, context) {
  const section = h("section", {className: "card"});
  fill(main, h("h1", {}, "Machines"), section);
  return keepFresh(async () => {
    const page = await api.get("/api/machines?per_page=100");
    fill(section, table("Machines in the shop", ["Machine", "Type", "Status"], page.items.map((machine) => [
      link(`/machines/${Number(machine.id)}`, machine.name), machine.machine_type, badge("machine", machine.status)]),
    "No machines."));
  }, QUEUE_MS, context);
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

// The operator's queue: their steps across jobs, most urgent first, with Start / Complete / Skip, and their
// unread notifications. The list reloads after every move and whenever a new notification arrives.
import * as api from "../api.js";
import {count, day, fill, h, link, moment} from "../dom.js";
import {badge} from "../rules.js";
import {keepFresh, notice} from "../live.js";
import {moveButtons, move, movesFor, processesOf} from "../steps.js";
import {machineNames} from "./machine.js";

export const NOTIFICATIONS_MS = 10000;
const HEADINGS = ["Job", "Title", "Customer", "Due", "Priority", "Step", "Machine", "Status", ""];

function row(step, user, processes, machines, onMove) {
  const moves = movesFor(user, step, step.job_status, processes);
  const cells = [
    link(`/jobs/${Number(step.job_id)}`, step.job_number), step.title, step.customer_name, day(step.due_date),
    badge("priority", step.priority), `${step.step_order}. ${step.name}`,
    step.machine_id ? link(`/machines/${Number(step.machine_id)}`, machines.get(step.machine_id) || `#${step.machine_id}`)
      : "—",
    badge("step", step.status),
    moves.length ? moveButtons(moves, `${step.name} of job ${step.job_number}`,
                               (status, label) => onMove(step, status, label)) : ""];
  return h("tr", {"data-step-id": step.id, "data-status": step.status},
           cells.map((cell, index) => h("td", {"data-label": HEADINGS[index]}, cell)));
}

/** Draw the queue in `main`; return the function that stops its notification loop. */
export function render(main, context) {
  const {user} = context;
  const list = h("section", {className: "card", id: "queue"});
  const inbox = h("section", {className: "card inbox", id: "notifications", "aria-labelledby": "inbox-title"});
  const refresh = h("button", {type: "button", className: "quiet", onclick: () => reload()}, "Refresh");
  fill(main, h("div", {className: "heading"}, h("h1", {}, "My queue"), refresh), inbox, list);
  let newest = null;

  async function reload(changedStep) {
    const [page, processes, machines] = await Promise.all([
      api.get("/api/me/steps?per_page=50"), processesOf(user), machineNames()]);
    const rows = page.items.map((step) => row(step, user, processes, machines, onMove));
    const body = h("tbody", {}, rows.length ? rows
      : h("tr", {}, h("td", {colspan: HEADINGS.length, className: "empty"}, "No steps assigned to you.")));
    if (changedStep) {
      const again = rows.find((tr) => tr.dataset.stepId === String(changedStep));
      if (again) again.classList.add("changed");
    }
    const more = page.pagination.has_next ? h("p", {className: "hint"},
      `The ${page.items.length} most urgent of ${count(page.pagination.total)} steps.`) : null;
    fill(list, h("div", {className: "table-wrap"}, h("table", {className: "queue"},
      h("caption", {}, "My steps, most urgent first"),
      h("thead", {}, h("tr", {}, HEADINGS.map((text) => h("th", {scope: "col"}, text)))), body)), more);
  }

  async function onMove(step, status, label) {
    const outcome = await move(step, status, step.etag, label, context);
    try {
      await reload(outcome === "conflict" ? step.id : null);
    } catch (error) {
      notice(`${error.message} Use Refresh to try again.`, "error");
    }
  }

  async function checkInbox() {
    const page = await api.get("/api/notifications?unread=true&per_page=5");
    const first = page.items.length ? page.items[0].id : 0;
    if (newest === null) await reload();
    else if (first !== newest) await reload();  // new work or a changed job: show the queue as it is now
    newest = first;
    const markAll = page.unread ? h("button", {type: "button", className: "quiet", onclick: async () => {
      await api.write("POST", "/api/notifications/read-all");
      newest = null;
      await checkInbox();
    }}, "Mark all read") : null;
    fill(inbox, h("div", {className: "heading"},
      h("h2", {id: "inbox-title"}, "Notifications ", h("span", {className: page.unread ? "count" : "count zero", id: "unread-count",
        "aria-label": `${page.unread} unread`}, String(page.unread))), markAll),
      page.items.length ? h("ul", {}, page.items.map((item) => h("li", {},
        item.job_id ? link(`/jobs/${Number(item.job_id)}`, item.message) : item.message,
        h("time", {datetime: item.created_at}, ` · ${moment(item.created_at)}`))))
        : h("p", {className: "hint"}, "No unread notifications."));
  }

  return keepFresh(checkInbox, NOTIFICATIONS_MS, context);
}

// A job's page: status, progress and its steps in order with who and which machine; managers change the
// status (If-Match with the job's ETag) and the assignees there; operators work their own steps.
import * as api from "../api.js";
import {badge, day, fill, h, link, moment as when} from "../dom.js";
import {keepFresh, notice} from "../live.js";
import {atLeast, move, moveButtons, movesFor, processesOf} from "../steps.js";
import {editForm} from "./job_edit.js";
import {machineNames} from "./machine.js";

const JOB_MS = 15000;
// The API's legal manual changes (apps/api/workflow.py JOB_TRANSITIONS): the page offers nothing else.
const JOB_TRANSITIONS = {
  draft: ["active", "in_progress", "cancelled"], active: ["draft", "in_progress", "on_hold", "cancelled"],
  in_progress: ["on_hold", "completed", "cancelled"], on_hold: ["active", "in_progress", "cancelled"],
  completed: [], cancelled: ["draft"],
};
const OPEN_JOB = new Set(["draft", "active", "in_progress", "on_hold"]);
const HEADINGS = ["#", "Step", "Status", "Assigned to", "Machine", "Started", "Completed", ""];


async function people(user) {
  if (!atLeast(user, "manager")) return null;  // only managers may list users (to assign work)
  const page = await api.get("/api/users?per_page=100");
  return page.items.filter((person) => person.is_active && person.role !== "viewer");
}

/** Check that the step is still as shown; return its ETag for If-Match, or null when someone changed it. */
async function stillAsShown(step) {
  const {body, etag} = await api.getItem(`/api/steps/${Number(step.id)}`);
  return body.status === step.status && body.assigned_to === step.assigned_to ? etag : null;
}

/** Draw job `params[0]` in `main` and keep it current; return the function that stops it. */
export function render(main, context) {
  const {user} = context;
  const jobId = Number(context.params[0]);
  const section = h("div", {className: "job"});
  fill(main, section);

  async function changed(action) {
    try {
      await action();
    } catch (error) {
      if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
      notice(error.status === 412 ? "Someone else changed this job meanwhile; it is shown again as it is now."
        : error.message, error.status === 412 ? "warn" : "error");
    }
    return load(true).catch((error) => notice(error.message, "error"));
  }

  function statusForm(job, etag) {
    const choices = JOB_TRANSITIONS[job.status];
    if (!atLeast(user, "manager") || !choices.length) return null;
    const select = h("select", {id: "job-status"}, choices.map((status) => h("option", {value: status},
      status.replace("_", " "))));
    return h("form", {className: "inline", onsubmit: (event) => {
      event.preventDefault();
      changed(async () => {
        await api.write("PATCH", `/api/jobs/${jobId}`, {status: select.value}, etag);
        notice(`Job ${job.job_number} is now ${select.value.replace("_", " ")}.`, "ok");
      });
    }}, h("label", {for: "job-status"}, "Change status to"), select,
    h("button", {type: "submit", className: "primary"}, "Change status"));
  }

  function assignee(step, job, staff) {
    const shown = step.assigned_to === null ? "—" : step.assigned_to === user.id ? `${user.username} (you)`
      : (staff && (staff.find((person) => person.id === step.assigned_to) || {}).full_name) || `user #${step.assigned_to}`;
    if (!staff || !OPEN_JOB.has(job.status) || ["completed", "skipped"].includes(step.status)) return shown;
    const id = `assign-${step.id}`;
    const select = h("select", {id, "aria-label": `Assign ${step.name}`},
      h("option", {value: ""}, "— nobody —"),
      staff.map((person) => h("option", {value: person.id, selected: person.id === step.assigned_to},
                                      `${person.full_name || person.username} (${person.role})`)));
    select.addEventListener("change", () => changed(async () => {
      const etag = await stillAsShown(step);
      if (!etag) throw Object.assign(new Error("changed"), {status: 412});
      await api.write("PATCH", `/api/steps/${Number(step.id)}`,
                      {assigned_to: select.value ? Number(select.value) : null}, etag);
      notice(`${step.name} reassigned.`, "ok");
    }));
    return select;
  }

  async function load(force) {
    const focused = document.activeElement;
    const typing = focused && ["SELECT", "INPUT", "TEXTAREA"].includes(focused.tagName) && main.contains(focused);
    if (!force && (typing || section.querySelector("details.edit-job[open]"))) return;  // mid-choice or mid-edit
    const [{body: job, etag}, processes, machines, staff] = await Promise.all([
      api.getItem(`/api/jobs/${jobId}`), processesOf(user), machineNames(), people(user)]);
    const rows = job.steps.map((step) => {
      const moves = movesFor(user, step, job.status, processes);
      const cells = [String(step.step_order), step.name, badge(step.status), assignee(step, job, staff),
        step.machine_id ? link(`/machines/${Number(step.machine_id)}`, machines.get(step.machine_id) || `#${step.machine_id}`)
          : "—",
        when(step.started_at), when(step.completed_at),
        moves.length ? moveButtons(moves, step.name, async (status, label) => {
          const stepEtag = await stillAsShown(step).catch(() => null);
          if (!stepEtag) notice(`Someone else changed ${step.name} meanwhile; it is shown again as it is now.`, "warn");
          else await move(dict(step, job), status, stepEtag, label, context);
          await load(true).catch(() => {});
        }) : ""];
      return h("tr", {"data-step-id": step.id}, cells.map((cell, index) => h("td", {"data-label": HEADINGS[index]}, cell)));
    });
    fill(section,
      h("p", {className: "job-links"}, link(user.role === "operator" ? "/queue" : "/jobs", "← Back"),
        h("a", {href: `#/jobs/${jobId}/ticket`, className: "button"}, "Print ticket")),
      h("h1", {}, `${job.job_number} · ${job.title}`),
      h("dl", {className: "facts"},
        h("dt", {}, "Status"), h("dd", {id: "job-status-value"}, badge(job.status)),
        h("dt", {}, "Customer"), h("dd", {}, job.customer_name),
        h("dt", {}, "Priority"), h("dd", {}, badge(job.priority)),
        h("dt", {}, "Due"), h("dd", {}, day(job.due_date)),
        h("dt", {}, "Progress"), h("dd", {},
          h("progress", {max: Math.max(job.steps_total, 1), value: job.steps_completed, id: "job-progress"}),
          ` ${job.steps_completed} of ${job.steps_total} steps done`)),
      job.description ? h("p", {className: "description"}, job.description) : null,
      statusForm(job, etag),
      atLeast(user, "manager") && OPEN_JOB.has(job.status) ? editForm(job, etag, changed) : null,
      h("section", {className: "card"}, h("div", {className: "table-wrap"}, h("table", {},
        h("caption", {}, "Steps in order"),
        h("thead", {}, h("tr", {}, HEADINGS.map((text) => h("th", {scope: "col"}, text)))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", {colspan: HEADINGS.length, className: "empty"},
                                                            "This job has no steps.")))))));
  }

  function dict(step, job) {
    return {...step, job_number: job.job_number};
  }

  return keepFresh(load, JOB_MS, context);
}

// A job's page: status, progress and its steps in order as cards (who, which machine, time, actions); managers
// change the job's status (If-Match with the job's ETag) and the assignees there; operators work their steps.
// An unknown job says "not found" once and stops asking.
import * as api from "../api.js";
import {day, fill, h, link} from "../dom.js";
import {keepFresh, notice} from "../live.js";
import {badge, rules, statusOf} from "../rules.js";
import {asking, stepCard} from "../stepcard.js";
import {atLeast, machineNames, processesOf} from "../steps.js";
import {editForm} from "./job_edit.js";

const JOB_MS = 15000;

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
    const choices = rules.job_transitions[job.status] || [];
    if (!atLeast(user, "manager") || !choices.length) return null;
    const select = h("select", {id: "job-status"}, choices.map((status) => h("option", {value: status},
      statusOf("job", status).label)));
    return h("form", {className: "inline", onsubmit: (event) => {
      event.preventDefault();
      changed(async () => {
        await api.write("PATCH", `/api/jobs/${jobId}`, {status: select.value}, etag);
        notice(`Job ${job.job_number} is now ${statusOf("job", select.value).label}.`, "ok");
      });
    }}, h("label", {for: "job-status"}, "Change status to"), select,
    h("button", {type: "submit", className: "primary"}, "Change status"));
  }

  function assignee(step, job, staff) {
    const shown = step.assigned_to === null ? "—" : step.assigned_to === user.id ? `${user.username} (you)`
      : (staff && (staff.find((person) => person.id === step.assigned_to) || {}).full_name) || `user #${step.assigned_to}`;
    if (!staff || rules.closed_job_statuses.includes(job.status) || rules.closed_step_statuses.includes(step.status)) {
      return h("p", {className: "who"}, `Assigned to ${shown}`);
    }
    const id = `assign-${step.id}`;
    const select = h("select", {id},
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
    return h("p", {className: "who"}, h("label", {for: id}, `Assign ${step.name} to`), " ", select);
  }

  async function load(force) {
    const focused = document.activeElement;
    const typing = focused && ["SELECT", "INPUT", "TEXTAREA"].includes(focused.tagName) && main.contains(focused);
    if (!force && (typing || section.querySelector("details.edit-job[open]"))) return;  // mid-choice or mid-edit
    if (!force && asking(main)) return;  // someone is answering a card's question
    const [{body: job, etag}, processes, machines, staff] = await Promise.all([
      api.getItem(`/api/jobs/${jobId}`), processesOf(user), machineNames(), people(user)]);
    const cards = job.steps.map((step) => stepCard({...step, job_number: job.job_number}, {
      user, processes, machines, jobStatus: job.status, showJob: false, context, etagOf: stillAsShown,
      extra: [assignee(step, job, staff)], done: () => load(true).catch(() => {})}));
    fill(section,
      h("p", {className: "job-links"}, link(user.role === "operator" ? "/queue" : "/jobs", "← Back"),
        h("a", {href: `#/jobs/${jobId}/ticket`, className: "button"}, "Print ticket")),
      h("h1", {}, `${job.job_number} · ${job.title}`),
      h("dl", {className: "facts"},
        h("dt", {}, "Status"), h("dd", {id: "job-status-value"}, badge("job", job.status)),
        h("dt", {}, "Customer"), h("dd", {}, job.customer_name),
        h("dt", {}, "Priority"), h("dd", {}, badge("priority", job.priority)),
        h("dt", {}, "Due"), h("dd", {}, day(job.due_date)),
        h("dt", {}, "Progress"), h("dd", {},
          h("progress", {max: Math.max(job.steps_total, 1), value: job.steps_completed, id: "job-progress"}),
          ` ${job.steps_completed} of ${job.steps_total} steps done`)),
      job.description ? h("p", {className: "description"}, job.description) : null,
      statusForm(job, etag),
      atLeast(user, "manager") && !rules.closed_job_statuses.includes(job.status) ? editForm(job, etag, changed) : null,
      h("h2", {}, "Steps in order"),
      h("section", {className: "cards", id: "job-steps", "aria-label": "Steps in order"},
        cards.length ? cards : h("p", {className: "hint empty"}, "This job has no steps.")));
  }

  return keepFresh(load, JOB_MS, {...context, notFound: () => {
    document.title = "Job not found · Shop floor";
    fill(main, h("h1", {}, "Job not found"), h("p", {}, `No job has the number ${jobId}. `,
      link(atLeast(user, "manager") ? "/dashboard" : "/queue", "Back")));
  }});
}

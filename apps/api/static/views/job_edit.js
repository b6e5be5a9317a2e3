// Editing a job's fields from its page (managers): title, description, due date and priority, sent as one
// PATCH with If-Match (the ETag the page was drawn from), so a job someone changed meanwhile is refused (412).
import * as api from "../api.js";
import {fill, h} from "../dom.js";
import {notice} from "../live.js";
import {rules, statusOf} from "../rules.js";

function field(id, label, control) {
  return h("div", {className: "field"}, h("label", {for: id}, label), control);
}

/** Return a collapsed "Edit job" form for `job` (drawn from `etag`); `changed(action)` runs `action`, says
 * what failed and redraws the job. */
export function editForm(job, etag, changed) {
  const title = h("input", {id: "edit-title", type: "text", maxlength: 200, value: job.title});
  const description = h("textarea", {id: "edit-description", rows: 3}, job.description || "");
  const due = h("input", {id: "edit-due", type: "date", value: job.due_date || ""});
  const priority = h("select", {id: "edit-priority"}, rules.priorities.map((look) => look.code || look).map((each) =>
    h("option", {value: each, selected: each === job.priority}, statusOf("priority", each).label)));
  const problem = h("p", {className: "form-error", role: "alert"});
  const save = h("button", {type: "submit", className: "primary"}, "Save");

  function submit(event) {
    event.preventDefault();
    fill(problem);
    const body = {};
    if (title.value.trim() !== job.title) body.title = title.value.trim();
    if (description.value.trim() !== (job.description || "")) body.description = description.value.trim() || null;
    if ((due.value || null) !== job.due_date) body.due_date = due.value || null;
    if (priority.value !== job.priority) body.priority = priority.value;
    if (!Object.keys(body).length) {
      fill(problem, "Nothing changed.");
      return;
    }
    save.disabled = true;
    api.write("PATCH", `/api/jobs/${Number(job.id)}`, body, etag).then(() => changed(async () => {
      notice(`Job ${job.job_number} saved.`, "ok");
    }), (error) => {
      save.disabled = false;
      const fields = (error.problem && error.problem.errors) || [];
      if (fields.length) fill(problem, fields.map((each) => `${each.field}: ${each.message}`).join("; "));
      else changed(async () => { throw error; });  // a 412, a lost session: said and redrawn by the job page
    });
  }

  return h("details", {className: "card edit-job"}, h("summary", {}, "Edit job"),
    h("form", {className: "job-form", novalidate: true, onsubmit: submit},
      field("edit-title", "Title", title), field("edit-description", "Description", description),
      h("div", {className: "pair"}, field("edit-due", "Due date", due), field("edit-priority", "Priority", priority)),
      problem, save));
}

// New job (#/jobs/new): customer, title, description, due date, priority and the steps in order, saved by ONE
// POST /api/jobs with an Idempotency-Key. The key and the body wait in sessionStorage until the API answers:
// a double click, a retry or a reload of a pending submit sends the same key, so the job is made once.
import * as api from "../api.js";
import {fill, h} from "../dom.js";
import {notice} from "../live.js";
import {roleAtLeast, rules, statusOf} from "../rules.js";
import {customerPicker} from "./customer_picker.js";
import {stepRows} from "./step_rows.js";

const PENDING = "printshop.new-job";  // {userId, key, body, customer}: a submit not answered yet

/** Return this user's unanswered submit ({key, body, customer}), or null; another user's is dropped. */
function pending(user) {
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  } catch (error) {
    kept = null;
  }
  if (kept && kept.userId === user.id) return kept;
  sessionStorage.removeItem(PENDING);
  return null;
}

async function choices() {
  const [processes, machines, people] = await Promise.all([
    api.get("/api/processes?per_page=100&is_active=true"), api.get("/api/machines?per_page=100"),
    api.get("/api/users?per_page=100")]);
  return {
    process_id: processes.items.map((each) => [String(each.id), each.name]),
    machine_id: machines.items.map((each) => [String(each.id), each.name]),
    assigned_to: people.items.filter((each) => each.is_active && each.role !== "viewer")
      .map((each) => [String(each.id), each.full_name || each.username]),
  };
}

/** Say an API field error in the form's words where the field was simply left empty. */
function plainly(name, empty, message) {
  if (!empty) return message;
  return name === "customer_id" ? "Choose a customer: search, or add a new one." : `Choose one. (${message})`;
}

function field(id, label, control) {
  return h("div", {className: "field"}, h("label", {for: id}, label), control);
}

/** Draw the new job form in `main`; return the function that stops it. */
export function render(main, context) {
  if (!roleAtLeast(context.user.role, "manager")) {
    fill(main, h("h1", {}, "New job"), h("p", {}, "Only managers enter jobs. ", h("a", {href: "#/jobs"}, "Back to jobs")));
    main.removeAttribute("aria-busy");
    return () => {};
  }
  let stopped = false;
  choices().then((options) => { if (!stopped) draw(main, context, options); }).catch((error) => {
    if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
    main.removeAttribute("aria-busy");
    fill(main, h("h1", {}, "New job"), h("p", {className: "form-error"}, error.message));
    return undefined;
  });
  return () => { stopped = true; };
}

function draw(main, context, options) {
  const waiting = pending(context.user);
  const before = waiting ? waiting.body : {};
  const picker = customerPicker(waiting ? waiting.customer : null, context.sessionEnded);
  const title = h("input", {id: "job-title", type: "text", maxlength: 200, value: before.title || ""});
  const description = h("textarea", {id: "job-description", rows: 3}, before.description || "");
  const due = h("input", {id: "job-due", type: "date", value: before.due_date || ""});
  const priority = h("select", {id: "job-priority"}, rules.priorities.map((look) => look.code || look).map((each) =>
    h("option", {value: each, selected: each === (before.priority || "normal")}, statusOf("priority", each).label)));
  const steps = stepRows(options, before.steps || []);
  const save = h("button", {type: "submit", className: "primary"}, "Save");
  const formError = h("p", {className: "form-error", role: "alert"});
  const controls = {customer_id: picker.input, title, description, due_date: due, priority};

  function controlOf(name) {
    const match = /^steps\.(\d+)\.(\w+)$/.exec(name);
    return match ? steps.control(Number(match[1]), match[2]) : controls[name] || null;
  }

  function clearErrors() {
    fill(formError);
    for (const old of main.querySelectorAll(".field-error.api")) old.remove();
    for (const marked of main.querySelectorAll("[aria-invalid]")) {
      marked.removeAttribute("aria-invalid");
      marked.removeAttribute("aria-describedby");
    }
  }

  function showErrors(error) {
    const loose = [];
    for (const [index, each] of (error.problem.errors || []).entries()) {
      const name = String(each.field).replace(/^body\./, "");
      const control = controlOf(name);
      if (!control) {
        loose.push(`${name}: ${each.message}`);
        continue;
      }
      const id = `error-${index}`;
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", id);
      control.after(h("p", {className: "field-error api", id}, plainly(name, name === "customer_id" ? !picker.value()
        : control.tagName === "SELECT" && control.value === "", each.message)));
    }
    fill(formError, [error.message, ...loose].join(" "));
    const first = main.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  }

  async function submit(event) {
    event.preventDefault();
    if (save.disabled) return;  // a second click while the first is on its way
    clearErrors();
    const customer = picker.value();
    const body = {customer_id: customer ? customer.id : null, title: title.value.trim(), priority: priority.value,
                  steps: steps.steps()};
    if (description.value.trim()) body.description = description.value.trim();
    if (due.value) body.due_date = due.value;
    const earlier = pending(context.user);
    const key = earlier && JSON.stringify(earlier.body) === JSON.stringify(body) ? earlier.key : crypto.randomUUID();
    sessionStorage.setItem(PENDING, JSON.stringify({userId: context.user.id, key, body, customer}));
    save.disabled = true;
    fill(save, "Saving…");
    try {
      const job = await api.create("/api/jobs", body, key);
      sessionStorage.removeItem(PENDING);
      location.hash = `#/jobs/${Number(job.id)}`;  // the job's page is the confirmation
      return;
    } catch (error) {
      if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
      // Refused (4xx): nothing was made and a corrected body needs a key of its own. Anything else (no
      // answer, 503) may have made the job: the same key goes again with the next Save.
      if (error.status >= 400 && error.status < 500) sessionStorage.removeItem(PENDING);
      else notice(`${error.message} Save again: the job will not be made twice.`, "warn");
      showErrors(error);
    } finally {
      save.disabled = false;
      fill(save, "Save");
    }
  }

  main.removeAttribute("aria-busy");
  fill(main, h("p", {}, h("a", {href: "#/jobs"}, "← Jobs")), h("h1", {}, "New job"),
    waiting ? h("p", {className: "notice warn"}, "Your last Save was not confirmed. The form is as you left it; "
      + "Save sends it again and never makes a second job.") : null,
    h("form", {className: "job-form card", novalidate: true, onsubmit: submit},
      picker.element, field("job-title", "Title", title), field("job-description", "Description", description),
      h("div", {className: "pair"}, field("job-due", "Due date", due), field("job-priority", "Priority", priority)),
      h("fieldset", {className: "steps"}, h("legend", {}, "Steps in order"), steps.element,
        h("button", {type: "button", onclick: () => steps.add().focus()}, "Add step")),
      formError, save));
}

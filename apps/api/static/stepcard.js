// One step as a card, the same in my queue, a machine's queue and a job's page: what to do first (the step
// and its machine), the job named once, its status and time, and the floor actions (56 px, 8 px apart).
// Skip asks first; Pause asks for a reason; Reopen (managers) asks why. Nothing asks with window.confirm.
import * as api from "./api.js";
import {day, fill, h, link} from "./dom.js";
import {notice} from "./live.js";
import * as outbox from "./outbox.js";
import {badge} from "./rules.js";
import {move, movesFor, pauseReasons} from "./steps.js";
import {clock, timeLine} from "./steptime.js";

export {clock};

function button(text, attributes, onclick) {
  return h("button", {type: "button", ...attributes, onclick}, text);
}

function waitingLine(step) {
  const current = api.user();
  const waiting = current ? outbox.entries(current.id).filter((entry) => entry.stepId === step.id) : [];
  return waiting.length ? h("p", {className: "waiting-tap"},
    waiting.map((entry) => (entry.state === "waiting" ? `${entry.label}: waiting to be sent.`
      : `${entry.label}: not sent (someone else changed it).`)).join(" ")) : null;
}

/** Whether someone is answering a card's question under `root` (a redraw now would take it away). */
export function asking(root) {
  return Boolean(root.querySelector(".step-card .ask:not([hidden])"));
}

/**
 * Draw `step` as a card. `options`: {user, processes, machines (Map id -> name), jobStatus, showJob, etagOf
 * (step -> Promise of its ETag, or null when it changed), extra (nodes such as the assignee), context, done
 * (called after every move, with its outcome)}.
 */
export function stepCard(step, options) {
  const {user, processes, machines, jobStatus, showJob = true, context, done} = options;
  const etagOf = options.etagOf || ((shown) => Promise.resolve(shown.etag));
  const moves = movesFor(user, step, jobStatus, processes);
  if (moves.some(([, status]) => status === "paused")) pauseReasons().catch(() => {});  // read before a Pause
  const describe = `${step.name} of job ${step.job_number || step.job_id}`;
  const ask = h("div", {className: "ask", hidden: true});
  const actions = h("div", {className: "actions"});
  const machine = step.machine_id ? (machines && machines.get(step.machine_id)) || `machine #${step.machine_id}` : null;

  async function send(body, label) {
    const all = [...actions.querySelectorAll("button"), ...ask.querySelectorAll("button")];
    all.forEach((element) => { element.disabled = true; });
    let outcome = "failed";
    try {
      const etag = await etagOf(step).catch(() => undefined);  // unreachable: kept with the shown status
      if (etag === null) notice(`Someone else changed ${describe} meanwhile; it is shown again as it is now.`, "warn");
      outcome = etag === null ? "conflict" : await move(step, body, etag, label, context);
    } finally {
      all.forEach((element) => { element.disabled = false; });  // buttons never stay disabled
    }
    if (outcome === "queued") {  // said on the card at once: the list may not be read again while offline
      ask.hidden = true;
      actions.hidden = false;
      const line = waitingLine(step);
      if (line) (article.querySelector(".waiting-tap") || article.appendChild(h("p"))).replaceWith(line);
    }
    await done(step, outcome);
  }

  function asking(question, ...controls) {
    fill(ask, h("p", {className: "question"}, question), h("div", {className: "actions"}, ...controls,
      button("Cancel", {className: "quiet"}, () => { ask.hidden = true; actions.hidden = false; })));
    ask.hidden = false;
    actions.hidden = true;
    ask.querySelector("button").focus();
  }

  async function askReason(label) {
    let known;
    try {
      known = await pauseReasons();
    } catch (error) {
      if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
      known = new Map();
    }
    if (!known.size) return asking("The pause reasons cannot be read right now. Try again in a moment.");
    return asking(`Why pause ${step.name}?`, [...known].map(([code, text]) => button(text,
      {className: "primary", "data-reason": code}, () => send({status: "paused", pause_reason: code}, label))));
  }

  function askReopen(label) {
    const id = `reopen-${step.id}`;
    const reason = h("input", {id, required: true, maxlength: 500});
    asking(`Reopen ${step.name}? It goes back to pending.`, h("label", {for: id}, "Reason for reopening"), reason,
      button("Reopen step", {className: "primary"}, () => {
        if (reason.value.trim()) send({status: "pending", reason: reason.value.trim()}, label);
        else reason.focus();
      }));
  }

  fill(actions, moves.map(([label, status]) => button(label, {
    className: status === "skipped" ? "quiet" : "primary", "data-move": status,
  }, () => {  // a button is named by its word alone; the card (aria-labelledby its heading) names the step
    if (status === "skipped") {
      return asking(`Skip ${step.name}? It will not be done.`,
        button("Yes, skip", {className: "primary danger", "data-move": "skipped"}, () => send({status}, label)));
    }
    if (status === "paused") return askReason(label);
    if (status === "pending") return askReopen(label);
    return send({status}, label);
  })));

  const article = h("article", {className: "step-card", "data-step-id": step.id, "data-status": step.status,
                               "aria-labelledby": `step-${Number(step.id)}-what`},
    h("h3", {className: "what", id: `step-${Number(step.id)}-what`}, `${step.step_order}. ${step.name}`,
      machine ? h("span", {className: "where"}, " · ", link(`/machines/${Number(step.machine_id)}`, machine)) : null),
    showJob ? h("p", {className: "job-line"}, link(`/jobs/${Number(step.job_id)}`, step.job_number), ` ${step.title}`,
      h("span", {className: "hint"}, ` · ${step.customer_name}${step.due_date ? ` · due ${day(step.due_date)}` : ""} `),
      badge("priority", step.priority)) : null,
    h("p", {className: "state"}, badge("step", step.status), " ", timeLine(step)),
    ...(options.extra || []),
    moves.length ? actions : null, ask, waitingLine(step));
  return article;
}

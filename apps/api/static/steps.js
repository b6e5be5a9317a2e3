// Working a step from any view: which buttons a user gets (exactly what the API would allow) and the PATCH
// that sends If-Match, so a step someone else changed meanwhile is refused (412) instead of overwritten.
import * as api from "./api.js";
import {h} from "./dom.js";
import {notice} from "./live.js";
import {roleAtLeast, rules} from "./rules.js";

const permitted = new Map();  // role -> Promise of the set of process ids it may execute

export function atLeast(user, role) {
  return Boolean(user) && roleAtLeast(user.role, role);
}

/** Return the set of process ids the user's role may execute (read once per page load). */
export function processesOf(user) {
  if (!permitted.has(user.role)) {
    permitted.set(user.role, api.get(`/api/roles/${encodeURIComponent(user.role)}/permissions`)
      .then((answer) => new Set(answer.process_ids))
      .catch((error) => { permitted.delete(user.role); throw error; }));
  }
  return permitted.get(user.role);
}

/** Return the [label, status] moves the API would accept from this user on `step` of a job in `jobStatus`. */
export function movesFor(user, step, jobStatus, processes) {
  if (!atLeast(user, "operator") || !rules.working_job_statuses.includes(jobStatus)) return [];
  if (!processes.has(step.process_id)) return [];
  if (!atLeast(user, "manager") && step.assigned_to !== user.id) return [];
  return (rules.step_moves[step.status] || []).map(([status, label]) => [label, status]);
}

/**
 * Send the move; return "done", "conflict" (412: someone else changed the step) or "failed". The caller
 * reloads what it shows in every case.
 */
export async function move(step, status, etag, label, {sessionEnded}) {
  try {
    await api.write("PATCH", `/api/steps/${Number(step.id)}`, {status}, etag);
    notice(`${label}: ${step.name} of job ${step.job_number || step.job_id}.`, "ok");
    return "done";
  } catch (error) {
    if (error instanceof api.SessionEnded) {
      sessionEnded(error.message);
      return "failed";
    }
    if (error.status === 412) {
      notice(`Someone else changed ${step.name} of job ${step.job_number || step.job_id} meanwhile; ` +
             "it is shown again as it is now.", "warn");
      return "conflict";
    }
    notice(error.status === 503 ? "The database is unavailable right now. Try again in a moment." : error.message,
           "error");
    return "failed";
  }
}

/** Buttons for the moves, each calling `onMove(status, label)`; disabled while one runs. */
export function moveButtons(moves, describe, onMove) {
  const buttons = moves.map(([label, status]) => h("button", {
    type: "button", className: label === "Skip" ? "quiet" : "primary", "data-move": status,
    "aria-label": `${label} ${describe}`,
    onclick: async () => {
      buttons.forEach((button) => { button.disabled = true; });
      await onMove(status, label);
    }}, label));
  return h("div", {className: "actions"}, buttons);
}

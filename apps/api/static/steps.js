// Working a step from any view: which moves a user gets (exactly what the API would allow, from the served
// rules) and the PATCH that sends If-Match, so a step someone else changed meanwhile is refused (412) instead
// of overwritten. A tap that cannot be sent now waits in the outbox (api.js) and is sent when it can be.
import * as api from "./api.js";
import {notice} from "./live.js";
import {canMove, roleAtLeast, rules} from "./rules.js";

const permitted = new Map();  // role -> Promise of the set of process ids it may execute
let reasons = null;
let names = null;

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

/** Return a Map of machine id -> name (read once per page load; machines rarely change). */
export function machineNames() {
  names = names || api.get("/api/machines?per_page=100")
    .then((page) => new Map(page.items.map((machine) => [machine.id, machine.name])))
    .catch((error) => { names = null; throw error; });
  return names;
}

/** Return a Map of pause reason code -> label (read once per page load). */
export function pauseReasons() {
  reasons = reasons || api.get("/api/pause-reasons")
    .then((answer) => new Map(answer.items.map((reason) => [reason.code, reason.label])))
    .catch((error) => { reasons = null; throw error; });
  return reasons;
}

/** Return the [label, status] moves the API would accept from this user on `step` of a job in `jobStatus`. */
export function movesFor(user, step, jobStatus, processes) {
  if (!atLeast(user, "operator") || !processes.has(step.process_id)) return [];
  const manager = atLeast(user, "manager");
  if (rules.closed_step_statuses.includes(step.status)) {  // reopening a finished step is a manager's, with why
    const reopen = manager && jobStatus !== "cancelled" && canMove("step", step.status, "pending");
    return reopen ? [["Reopen", "pending"]] : [];  // a completed job opens again, a cancelled one does not
  }
  if (!rules.working_job_statuses.includes(jobStatus) || (!manager && step.assigned_to !== user.id)) return [];
  const moves = ((rules.step_moves || {})[step.status] || []).map(([status, label]) => [label, status]);
  // a pause needs its reason: more than a tap, so not among the served one-tap moves; the card asks for it
  if (canMove("step", step.status, "paused")) {
    const afterStart = moves.length && moves[0][1] === "in_progress" ? 1 : 0;
    moves.splice(afterStart, 0, ["Pause", "paused"]);
  }
  return moves;
}

function jobName(step) {
  return step.job_number || `#${step.job_id}`;
}

/**
 * Send the move (`body`: {status, ...}) with If-Match `etag` (or, with no ETag at hand, the shown status as
 * what must still hold); return "done", "queued" (kept in the outbox), "conflict" (412) or "failed". The
 * caller reloads what it shows in every case.
 */
export async function move(step, body, etag, label, {sessionEnded}) {
  const what = `${label}: ${step.name} of job ${jobName(step)}`;
  const keep = {label: what, stepId: step.id, expect: etag ? undefined : {status: step.status}};
  try {
    await api.write("PATCH", `/api/steps/${Number(step.id)}`, body, etag || undefined, {}, keep);
    notice(`${what}.`, "ok");
    return "done";
  } catch (error) {
    if (error instanceof api.Queued) {
      notice(null);  // the card and the outbox strip say it: kept here, sent when the connection is back
      return "queued";
    }
    if (error instanceof api.SessionEnded) {
      sessionEnded(`${error.message} Your tap is kept and sent after you log in.`);
      return "failed";
    }
    if (error.status === 412) {
      notice(`Someone else changed ${step.name} of job ${jobName(step)} meanwhile; ` +
             "it is shown again as it is now.", "warn");
      return "conflict";
    }
    notice(error.message, "error");
    return "failed";
  }
}

// The rules the server serves once with the page (#rules, built by apps/api/domain/statuses.page_rules()):
// statuses with their words, colours and marks, the legal moves, the roles. Nothing here restates them.
import {h} from "./dom.js";

const source = document.getElementById("rules");
export const rules = Object.freeze(source ? JSON.parse(source.textContent) : {
  job_statuses: [], step_statuses: [], job_transitions: {}, step_transitions: {}, step_moves: {}, roles: [],
  priorities: [], working_job_statuses: [], closed_job_statuses: [], closed_step_statuses: []});

function listOf(kind) {
  if (kind === "job") return rules.job_statuses;
  if (kind === "step") return rules.step_statuses;
  return rules.priorities || [];
}

/** Return {code, label, colour, text, mark} of a job or step status (kind "job" | "step"). */
export function statusOf(kind, code) {
  return listOf(kind).find((status) => status.code === code)
    || {code, label: String(code).replace(/_/g, " "), colour: "", text: "", mark: ""};
}

/** A badge for a status: its mark and its word, in its colours. */
export function badge(kind, code) {
  const status = statusOf(kind, code);
  const element = h("span", {className: "badge", "data-status": code},
    status.mark ? h("span", {"aria-hidden": "true"}, `${status.mark} `) : null, status.label);
  if (status.colour) element.style.background = status.colour;
  if (status.text) element.style.color = status.text;
  return element;
}

/** Whether the workflow lets a job or step go from `from` to `to`. */
export function canMove(kind, from, to) {
  const moves = (kind === "job" ? rules.job_transitions : rules.step_transitions)[from] || [];
  return moves.includes(to);
}

/** Whether `role` is `minimum` or stronger. */
export function roleAtLeast(role, minimum) {
  const order = rules.roles;
  return order.indexOf(role) >= 0 && order.indexOf(role) >= order.indexOf(minimum);
}

// The shop's shared rules as the server defines them (apps/api/domain/statuses.py, page_rules()): statuses with
// their words, colours and marks, the allowed transitions, the roles and the priorities. The page template
// embeds them once as JSON; nothing else on the page restates them.
import {h} from "./dom.js";

const embedded = document.getElementById("rules");

/** The rules: {job_statuses, step_statuses, machine_statuses, priority_badges, job_transitions, ...}. */
export const rules = Object.freeze(embedded ? JSON.parse(embedded.textContent) : {
  job_statuses: [], step_statuses: [], machine_statuses: [], priority_badges: [],
  job_transitions: {}, step_transitions: {}, step_moves: {}, roles: [], priorities: [],
  working_job_statuses: [], closed_job_statuses: [], closed_step_statuses: [],
});

const LISTS = {job: "job_statuses", step: "step_statuses", machine: "machine_statuses", priority: "priority_badges"};

/** Return {code, label, colour, text, mark} of `code` ("job" | "step" | "machine" | "priority"); a plain one if unknown. */
export function statusOf(kind, code) {
  const found = (rules[LISTS[kind]] || []).find((status) => status.code === code);
  return found || {code, label: String(code).replace(/_/g, " "), colour: "", text: "", mark: ""};
}

/** A badge: the status's mark and word, coloured as the server says (never colour alone). */
export function badge(kind, code) {
  const status = statusOf(kind, code);
  const element = h("span", {className: "badge", "data-status": status.code},
    status.mark ? h("span", {className: "mark", "aria-hidden": "true"}, status.mark) : null, status.label);
  if (status.colour) element.style.backgroundColor = status.colour;
  if (status.text) element.style.color = status.text;
  return element;
}

/** Whether a `kind` ("job" | "step") may go from `from` to `to`. */
export function canMove(kind, from, to) {
  const transitions = rules[`${kind}_transitions`] || {};
  return (transitions[from] || []).includes(to);
}

/** The statuses a `kind` may move to from `from`, in the server's order. */
export function movesFrom(kind, from) {
  return ((rules[`${kind}_transitions`] || {})[from] || []).slice();
}

/** Whether `role` is `minimum` or stronger (roles are listed weakest first). */
export function roleAtLeast(role, minimum) {
  const rank = rules.roles.indexOf(role);
  return rank >= 0 && rank >= rules.roles.indexOf(minimum);
}

/** The codes of every status of a `kind`, in the server's order. */
export function codes(kind) {
  return (rules[LISTS[kind]] || []).map((status) => status.code);
}

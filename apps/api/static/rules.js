// The shop's rules as the server states them (apps.api.domain.statuses.page_rules(), in the page's
// <script type="application/json" id="rules">): statuses with their words, colours and marks, transitions,
// roles and priorities. The page never restates them.
import {h} from "./dom.js";

const source = document.getElementById("rules");
export const rules = Object.freeze(source ? JSON.parse(source.textContent) : {
  job_statuses: [], step_statuses: [], job_transitions: {}, step_transitions: {}, roles: [], priorities: []});

/** Return {code, label, colour, text, mark} for a job ("job") or step ("step") status code. */
export function statusOf(kind, code) {
  const found = (rules[`${kind}_statuses`] || []).find((status) => status.code === code);
  return found || {code, label: String(code).replace(/_/g, " "), colour: "#5b6675", text: "#ffffff", mark: "•"};
}

/** Return a badge (mark and word, the server's colours) for a job or step status. */
export function badge(kind, code) {
  const status = statusOf(kind, code);
  const element = h("span", {className: "badge"}, `${status.mark} ${status.label}`);
  element.style.background = status.colour;
  element.style.color = status.text;
  return element;
}

/** Say whether a job or step may move from `from` to `to`. */
export function canMove(kind, from, to) {
  return ((rules[`${kind}_transitions`] || {})[from] || []).includes(to);
}

/** Say whether `role` is at least `minimum` (roles weakest first). */
export function roleAtLeast(role, minimum) {
  const order = rules.roles.length ? rules.roles : ["viewer", "operator", "manager", "admin"];
  return order.indexOf(role) >= order.indexOf(minimum) && order.indexOf(minimum) >= 0;
}

// The new job form's customer: search as you type against /api/customers?q=, choose from the answers, or
// add a new customer without leaving the form (POST /api/customers with its own Idempotency-Key).
import * as api from "../api.js";
import {fill, h} from "../dom.js";

const TYPING_MS = 250;
const TERM = /[^\W_]{3}/u;  // the API's search rule: three letters or digits in a row

/**
 * Make the picker; `chosen` ({id, name} or null) is shown as chosen. Return {element, input, value()}:
 * value() is the chosen {id, name} or null; `input` is the field the customer's errors describe.
 */
export function customerPicker(chosen, onSessionEnded) {
  let current = chosen;
  let typing = null, asked = 0;
  const input = h("input", {id: "job-customer", type: "search", autocomplete: "off",
    "aria-controls": "customer-results", placeholder: "name, email or phone"});
  const results = h("ul", {id: "customer-results", className: "choices", "aria-label": "Matching customers"});
  const choice = h("p", {className: "chosen", "aria-live": "polite"});
  const newName = h("input", {id: "new-customer-name", type: "text", maxlength: 200});
  const newEmail = h("input", {id: "new-customer-email", type: "email"});
  const newError = h("p", {className: "field-error", id: "new-customer-error"});
  let newKey = null;
  const adding = h("div", {className: "inline-add", hidden: true},
    h("label", {for: "new-customer-name"}, "New customer's name"), newName,
    h("label", {for: "new-customer-email"}, "New customer's email (optional)"), newEmail, newError,
    h("button", {type: "button", onclick: addCustomer}, "Add customer"));

  function show() {
    fill(choice, current ? ["Customer: ", h("strong", {className: "name"}, current.name)] : "No customer chosen yet.");
  }

  function choose(customer) {
    current = {id: Number(customer.id), name: customer.name};
    input.value = "";
    fill(results);
    adding.hidden = true;
    show();
  }

  async function find() {
    const term = input.value.trim();
    const mine = ++asked;
    if (!TERM.test(term)) {
      fill(results, term ? h("li", {className: "hint"}, "Type at least three letters or digits.") : null);
      return;
    }
    try {
      const page = await api.get(`/api/customers?q=${encodeURIComponent(term)}&per_page=8`);
      if (mine !== asked) return;  // a later keystroke asked again
      fill(results, page.items.length ? page.items.map((customer) => h("li", {},
        h("button", {type: "button", className: "choice", onclick: () => choose(customer)},
          h("span", {className: "name"}, customer.name), customer.email ? ` · ${customer.email}` : "")))
        : h("li", {className: "hint"}, "No customer matches. Add a new customer below."));
    } catch (error) {
      if (error instanceof api.SessionEnded) onSessionEnded(error.message);
      else fill(results, h("li", {className: "field-error"}, error.message));
    }
  }

  async function addCustomer() {
    fill(newError);
    const body = {name: newName.value.trim()};
    if (newEmail.value.trim()) body.email = newEmail.value.trim();
    newKey = newKey || crypto.randomUUID();
    try {
      choose(await api.create("/api/customers", body, newKey));
      newKey = null;
      newName.value = "";
      newEmail.value = "";
    } catch (error) {
      if (error instanceof api.SessionEnded) return onSessionEnded(error.message);
      if (error.status >= 400 && error.status < 500) newKey = null;  // refused: a corrected body is a new request
      const fields = (error.problem.errors || []).map((each) => `${each.field}: ${each.message}`);
      fill(newError, fields.length ? fields.join("; ") : error.message);
    }
    return undefined;
  }

  input.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(find, TYPING_MS);
  });
  show();
  const element = h("div", {className: "field customer-picker"},
    h("label", {for: "job-customer"}, "Customer"), input, results, choice,
    h("button", {type: "button", className: "quiet", onclick: () => {
      adding.hidden = !adding.hidden;
      if (!adding.hidden) newName.focus();
    }}, "Add a new customer"), adding);
  return {element, input, value: () => current};
}

// Forms of the manager's pages: labelled fields with their errors beside them, one submission at a time, an
// Idempotency-Key kept per attempt, and the password asked again where the API needs a fresh login.
import * as api from "./api.js";
import {fill, h} from "./dom.js";

/** A labelled field: {element, input, error}; the input's errors are read out with it (aria-describedby). */
export function field(name, label, input, hint) {
  const id = `field-${name}`;
  input.id = id;
  input.name = name;
  const error = h("span", {className: "field-error", id: `${id}-error`});
  input.setAttribute("aria-describedby", `${id}-error`);
  const element = h("div", {className: "field", "data-field": name}, h("label", {for: id}, label), input,
                    hint ? h("span", {className: "hint"}, hint) : null, error);
  return {element, input, error};
}

/** Say what went wrong: each of the API's field errors beside its field, anything else in `general`. */
export function showErrors(fields, general, error) {
  for (const {input, error: line} of Object.values(fields)) {
    fill(line);
    input.removeAttribute("aria-invalid");
  }
  const listed = (error.problem && error.problem.errors) || [];
  const unplaced = [];
  for (const item of listed) {
    const name = String(item.field || "").split(".").pop();
    const target = fields[name];
    if (target) {
      fill(target.error, item.message);
      target.input.setAttribute("aria-invalid", "true");
    } else {
      unplaced.push(item.message);
    }
  }
  fill(general, listed.length && !unplaced.length ? "Correct the fields marked above." : [error.message, ...unplaced]
    .join(" "));
  const first = Object.values(fields).find(({input}) => input.getAttribute("aria-invalid"));
  if (first) first.input.focus();
}

/** Clear every field error and the general one. */
export function clearErrors(fields, general) {
  for (const {input, error} of Object.values(fields)) {
    fill(error);
    input.removeAttribute("aria-invalid");
  }
  fill(general);
}

/** Return a function that makes one Idempotency-Key per submission attempt and keeps it until it succeeds. */
export function idempotency() {
  let key = null;
  return {
    headers: () => {
      key = key || crypto.randomUUID();
      return {"Idempotency-Key": key};
    },
    done: () => { key = null; },
  };
}

/** Ask for the user's password again, saying why; resolve true once logged in again, false when cancelled. */
export function askPassword(reason) {
  return new Promise((resolve) => {
    const password = h("input", {type: "password", autocomplete: "current-password", required: true});
    const wrapped = field("fresh-password", "Password", password);
    const error = h("p", {className: "form-error", role: "alert"});
    const cancel = h("button", {type: "button", className: "quiet"}, "Cancel");
    const submit = h("button", {type: "submit", className: "primary"}, "Log in again");
    const dialog = h("dialog", {className: "card fresh", "aria-labelledby": "fresh-title"},
      h("form", {method: "dialog"},
        h("h2", {id: "fresh-title"}, "Confirm it is you"),
        h("p", {}, reason),
        wrapped.element, error, h("div", {className: "actions"}, submit, cancel)));
    const close = (outcome) => {
      dialog.close();
      dialog.remove();
      resolve(outcome);
    };
    cancel.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); close(false); });
    dialog.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        await api.logInAgain(password.value);
        close(true);
      } catch (failure) {
        fill(error, failure.status === 401 ? "Wrong password. Try again." : failure.message);
        submit.disabled = false;
        password.select();
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    password.focus();
  });
}

/** Run `action`; where the API needs a fresh login, ask for the password (saying why) and run it once more. */
export async function withFreshLogin(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof api.FreshLoginNeeded)) throw error;
    if (!(await askPassword(error.message))) throw new Error("Not changed: the password was not given again.");
    return action();
  }
}

/** Disable `button` while `action` runs (a double click sends once). */
export async function busy(button, action) {
  if (button.disabled) return undefined;
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}

// The login form: username and password, the API's answer said in words.
import * as api from "../api.js";
import {fill, h} from "../dom.js";

function reason(error) {
  if (error.status === 401) return "Unknown user or wrong password.";
  if (error.status === 429) return `Too many attempts. Wait ${error.retryAfter || 60} s and try again.`;
  if (error.status === 503) return "The database is unavailable right now. Try again in a moment.";
  if (error.status === 0) return "The server cannot be reached. Check the network and try again.";
  return error.message;
}

/** Draw the login form in `main`; call `done` after a successful login. */
export function render(main, {message, done}) {
  const username = h("input", {id: "username", name: "username", autocomplete: "username", required: true,
                               autocapitalize: "none", spellcheck: "false"});
  const password = h("input", {id: "password", name: "password", type: "password",
                               autocomplete: "current-password", required: true});
  const error = h("p", {className: "form-error", id: "login-error", role: "alert"});
  const submit = h("button", {type: "submit", className: "primary"}, "Log in");
  const form = h("form", {className: "card login", "aria-labelledby": "login-title", novalidate: true},
    h("h1", {id: "login-title"}, "Shop floor"),
    message ? h("p", {className: "hint"}, message) : null,
    h("label", {for: "username"}, "Username"), username,
    h("label", {for: "password"}, "Password"), password,
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(error);
    if (!username.value.trim() || !password.value) {
      fill(error, "Enter your username and password.");
      return;
    }
    submit.disabled = true;
    fill(submit, "Logging in…");
    try {
      await api.login(username.value.trim(), password.value);
      password.value = "";
      done();
    } catch (failure) {
      fill(error, reason(failure));
      submit.disabled = false;
      fill(submit, "Log in");
      password.focus();
    }
  });
  fill(main, form);
  main.removeAttribute("aria-busy");
  document.getElementById("bar").hidden = true;
  document.title = "Log in · Shop floor";
  username.focus();
  return () => {};
}

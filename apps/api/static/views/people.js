// People (admins): every user with their role and whether they may log in; add a person, change a role,
// deactivate or reactivate. The API needs a fresh login for these: the page asks for the password again.
import * as api from "../api.js";
import {count, fill, h, table} from "../dom.js";
import {busy, clearErrors, field, idempotency, showErrors, withFreshLogin} from "../forms.js";
import {keepFresh, notice} from "../live.js";
import {roleAtLeast, rules} from "../rules.js";

const PER_PAGE = 50;

function roleSelect(id, chosen) {
  return h("select", {id}, rules.roles.map((role) => h("option", {value: role, selected: role === chosen}, role)));
}

/** Run a change that needs a fresh login; say what happened; return true when it was made. */
async function change(action, done, context) {
  try {
    await withFreshLogin(action);
    notice(done, "ok");
    return true;
  } catch (error) {
    if (error instanceof api.SessionEnded) context.sessionEnded(error.message);
    else notice(error.message, "error");
    return false;
  }
}

function personForm(context, {saved, cancelled}) {
  const fields = {
    username: field("username", "Username", h("input", {autocomplete: "off", autocapitalize: "none",
                                                       spellcheck: "false", required: true})),
    full_name: field("full_name", "Full name", h("input", {autocomplete: "off"})),
    email: field("email", "Email", h("input", {type: "email", autocomplete: "off"})),
    password: field("password", "Password", h("input", {type: "password", autocomplete: "new-password",
                                                       required: true}), "At least 8 characters"),
    role: field("role", "Role", roleSelect("new-role", "operator")),
  };
  const general = h("p", {className: "form-error", role: "alert"});
  const save = h("button", {type: "submit", className: "primary"}, "Save");
  const key = idempotency();
  const form = h("form", {className: "card form", "aria-label": "New person", novalidate: true},
    h("h2", {}, "New person"), h("div", {className: "grid"}, Object.values(fields).map(({element}) => element)),
    general, h("div", {className: "actions"}, save,
      h("button", {type: "button", className: "quiet", onclick: cancelled}, "Cancel")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      clearErrors(fields, general);
      const body = {username: fields.username.input.value.trim(), password: fields.password.input.value,
                    role: fields.role.input.value, full_name: fields.full_name.input.value.trim()};
      if (fields.email.input.value.trim()) body.email = fields.email.input.value.trim();
      try {
        const person = await withFreshLogin(() => api.write("POST", "/api/users", body, null, key.headers()));
        key.done();
        saved(person);
      } catch (error) {
        if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
        showErrors(fields, general, error);
      }
      return undefined;
    });
  });
  return form;
}

/** Draw the people page (admins only) and keep it current; return the function that stops it. */
export function render(main, context) {
  const {user} = context;
  if (!roleAtLeast(user.role, "admin")) {
    fill(main, h("h1", {}, "People"), h("p", {className: "card"}, "Only admins manage people."));
    main.removeAttribute("aria-busy");
    return () => {};
  }
  const formSlot = h("div");
  const shown = h("p", {className: "count-line"});
  const list = h("section", {className: "card", id: "people"});
  const more = h("button", {type: "button", className: "quiet", hidden: true}, "Load more");
  let people = [], cursor = null, total = 0;
  const add = h("button", {type: "button", className: "primary", onclick: () => {
    fill(formSlot, personForm(context, {cancelled: () => fill(formSlot), saved: (person) => {
      fill(formSlot);
      notice(`${person.username} can log in now, as ${person.role}.`, "ok");
      load().catch(() => {});
    }}));
    formSlot.querySelector("input").focus();
  }}, "Add person");
  fill(main, h("div", {className: "heading"}, h("h1", {}, "People"), add), formSlot, shown, list, more);

  function actions(person) {
    if (person.id === user.id) return "You";
    const select = roleSelect(`role-${person.id}`, person.role);
    const roleButton = h("button", {type: "submit"}, "Change role");
    const roleForm = h("form", {className: "inline", onsubmit: (event) => {
      event.preventDefault();
      busy(roleButton, async () => {
        const to = select.value;
        await change(() => api.write("PATCH", `/api/users/${Number(person.id)}`, {role: to}),
                     `${person.username} is now ${to}.`, context);
        await load().catch(() => {});
      });
    }}, h("label", {for: select.id, className: "visually-hidden"}, `Role of ${person.username}`), select, roleButton);
    const word = person.is_active ? "Deactivate" : "Reactivate";
    const toggle = h("button", {type: "button", className: person.is_active ? "quiet danger" : "quiet",
                                "aria-label": `${word} ${person.username}`}, word);
    toggle.addEventListener("click", () => busy(toggle, async () => {
      await change(() => api.write("PATCH", `/api/users/${Number(person.id)}`, {is_active: !person.is_active}),
                   `${person.username} is ${person.is_active ? "deactivated: their sessions ended" : "active again"}.`,
                   context);
      await load().catch(() => {});
    }));
    return h("div", {className: "actions"}, roleForm, toggle);
  }

  function draw() {
    fill(shown, `${count(people.length)} of ${count(total)}`);
    const shownTable = table("People", ["Username", "Name", "Role", "Active", "Change"], people.map((person) => [
      person.username, person.full_name || "—", person.role, person.is_active ? "Yes" : "No", actions(person)]),
    "No people.");
    shownTable.classList.add("wide");  // its forms need room: cards below a desk's width
    fill(list, shownTable);
    more.hidden = !cursor;
  }

  async function load(next) {
    if (!next && list.contains(document.activeElement) && document.activeElement.tagName === "SELECT") return;
    const page = await api.get(`/api/users?per_page=${PER_PAGE}${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
    people = next ? people.concat(page.items) : page.items;
    cursor = page.pagination.next_cursor;
    total = page.pagination.total;
    draw();
  }

  more.addEventListener("click", () => busy(more, () => load(cursor).catch((error) => notice(error.message, "error"))));

  return keepFresh(() => (people.length > PER_PAGE ? Promise.resolve() : load()), 30000, context);
}

// Customers: the list with search ("N of TOTAL", Load more by the API's cursor), a new customer, and one
// customer's page with their details (edited in place by managers) and their jobs.
import * as api from "../api.js";
import {count, day, fill, h, link, table} from "../dom.js";
import {busy, clearErrors, field, idempotency, showErrors} from "../forms.js";
import {keepFresh, notice} from "../live.js";
import {badge} from "../rules.js";
import {atLeast} from "../steps.js";

const PER_PAGE = 25;
const FIELDS = [["name", "Name"], ["company", "Company"], ["email", "Email"], ["phone", "Phone"], ["notes", "Notes"]];

/** A customer form (new when `customer` is null); calls `saved(customer)` after the API took it. */
function customerForm(customer, etag, {saved, cancelled, sessionEnded}) {
  const fields = Object.fromEntries(FIELDS.map(([name, label]) => {
    const input = name === "notes" ? h("textarea", {rows: 3}) : h("input", {
      type: name === "email" ? "email" : name === "phone" ? "tel" : "text",
      autocomplete: name === "name" ? "off" : name === "email" ? "email" : name === "phone" ? "tel" : "organization",
      required: name === "name"});
    input.value = (customer && customer[name]) || "";
    return [name, field(name, label, input)];
  }));
  const general = h("p", {className: "form-error", role: "alert"});
  const save = h("button", {type: "submit", className: "primary"}, "Save");
  const key = idempotency();
  const form = h("form", {className: "card form", "aria-label": customer ? `Edit ${customer.name}` : "New customer",
                          novalidate: true},
    h("h2", {}, customer ? "Edit customer" : "New customer"),
    h("div", {className: "grid"}, Object.values(fields).map(({element}) => element)),
    general, h("div", {className: "actions"}, save,
      h("button", {type: "button", className: "quiet", onclick: cancelled}, "Cancel")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, async () => {
      clearErrors(fields, general);
      const body = {};
      for (const [name] of FIELDS) {
        const value = fields[name].input.value.trim();
        if (customer ? value !== (customer[name] || "") : value) body[name] = value || null;
      }
      try {
        const answer = customer
          ? await api.write("PATCH", `/api/customers/${Number(customer.id)}`, body, etag)
          : await api.write("POST", "/api/customers", body, null, key.headers());
        key.done();
        saved(answer);
      } catch (error) {
        if (error instanceof api.SessionEnded) return sessionEnded(error.message);
        if (error.status === 412) error.message = "Someone else changed this customer meanwhile. Cancel to see it.";
        showErrors(fields, general, error);
      }
      return undefined;
    });
  });
  return form;
}

function queryOf() {
  return new URLSearchParams(location.hash.split("?")[1] || "");
}

function renderList(main, context) {
  const {user} = context;
  const search = h("input", {type: "search", autocomplete: "off", value: queryOf().get("q") || ""});
  const searchField = field("customer-search", "Search customers", search, "Name, email or phone");
  const formSlot = h("div");
  const shown = h("p", {className: "count-line", "aria-live": "polite"});
  const list = h("section", {className: "card"});
  const more = h("button", {type: "button", className: "quiet", hidden: true}, "Load more");
  const add = atLeast(user, "manager") ? h("button", {type: "button", className: "primary", onclick: () => {
    fill(formSlot, customerForm(null, null, {...context, cancelled: () => fill(formSlot), saved: (customer) => {
      notice(`Customer ${customer.name} added.`, "ok");
      location.hash = `#/customers/${Number(customer.id)}`;
    }}));
    formSlot.querySelector("input").focus();
  }}, "New customer") : null;
  fill(main, h("div", {className: "heading"}, h("h1", {}, "Customers"), add),
       h("form", {className: "toolbar", role: "search", onsubmit: (event) => event.preventDefault()},
         searchField.element), formSlot, shown, list, more);
  let items = [], cursor = null, total = 0, typing = null;

  async function load(next) {
    const q = search.value.trim();
    const params = new URLSearchParams({per_page: PER_PAGE});
    if (q) params.set("q", q);
    if (next) params.set("cursor", next);
    let page;
    try {
      page = await api.get(`/api/customers?${params}`);
    } catch (error) {
      if (error.status !== 422 || !q) throw error;
      fill(searchField.error, "Type at least three letters or digits in a row to search.");
      return;
    }
    fill(searchField.error);
    items = next ? items.concat(page.items) : page.items;
    cursor = page.pagination.next_cursor;
    total = page.pagination.total;
    fill(shown, `${count(items.length)} of ${count(total)}`);
    fill(list, table("Customers", ["Name", "Company", "Email", "Phone"], items.map((customer) => [
      link(`/customers/${Number(customer.id)}`, customer.name), customer.company || "—", customer.email || "—",
      customer.phone || "—"]), q ? "No customer matches." : "No customers yet."));
    more.hidden = !cursor;
  }

  more.addEventListener("click", () => busy(more, () => load(cursor).catch((error) => notice(error.message, "error"))));
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      const q = search.value.trim();
      history.replaceState(null, "", q ? `#/customers?${new URLSearchParams({q})}` : "#/customers");
      load().catch((error) => notice(error.message, "error"));
    }, 250);
  });
  const stop = keepFresh(() => (items.length > PER_PAGE ? Promise.resolve() : load()), 60000, context);
  return () => { clearTimeout(typing); stop(); };
}

function renderOne(main, customerId, context) {
  const {user} = context;
  const details = h("section", {className: "card"});
  const jobs = h("section", {className: "card", id: "customer-jobs"});
  const shown = h("p", {className: "count-line"});
  const more = h("button", {type: "button", className: "quiet", hidden: true}, "Load more");
  const title = h("h1", {}, "Customer");
  fill(main, h("p", {}, link("/customers", "← All customers")), title, details, shown, jobs, more);
  let editing = false, jobItems = [], cursor = null;

  function showDetails(customer, etag) {
    const edit = atLeast(user, "manager") ? h("button", {type: "button", onclick: () => {
      editing = true;
      fill(details, customerForm(customer, etag, {...context,
        cancelled: () => { editing = false; load().catch(() => {}); },
        saved: () => { editing = false; notice(`Customer ${customer.name} saved.`, "ok"); load().catch(() => {}); }}));
      details.querySelector("input").focus();
    }}, "Edit") : null;
    fill(details, h("dl", {className: "facts"}, FIELDS.slice(1).flatMap(([name, label]) =>
      [h("dt", {}, label), h("dd", {}, customer[name] || "—")])), edit);
  }

  async function loadJobs(next) {
    const params = new URLSearchParams({customer_id: customerId, per_page: PER_PAGE, sort: "created_at"});
    if (next) params.set("cursor", next);
    const page = await api.get(`/api/jobs?${params}`);
    jobItems = next ? jobItems.concat(page.items) : page.items;
    cursor = page.pagination.next_cursor;
    fill(shown, `${count(jobItems.length)} of ${count(page.pagination.total)} jobs`);
    fill(jobs, table("Their jobs", ["Job", "Title", "Status", "Due"], jobItems.map((job) => [
      link(`/jobs/${Number(job.id)}`, job.job_number), job.title, badge("job", job.status), day(job.due_date)]),
    "No jobs for this customer yet."));
    more.hidden = !cursor;
  }

  async function load() {
    if (editing) return;
    const {body: customer, etag} = await api.getItem(`/api/customers/${customerId}`);
    fill(title, customer.name);
    document.title = `${customer.name} · Shop floor`;
    showDetails(customer, etag);
    if (jobItems.length <= PER_PAGE) await loadJobs();
  }

  more.addEventListener("click", () => busy(more, () => loadJobs(cursor).catch((error) => notice(error.message, "error"))));
  return keepFresh(load, 30000, context);
}

/** Draw the customer list, or one customer when the route names it; return the function that stops it. */
export function render(main, context) {
  const [customerId] = context.params;
  return customerId ? renderOne(main, Number(customerId), context) : renderList(main, context);
}

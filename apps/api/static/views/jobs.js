// The jobs list: search, filters and sort kept in the address (#/jobs?q=oak&overdue=true), so a link, a
// reload or the back button gives the same list; "Load more" follows the API's keyset cursor; managers
// export what is shown as CSV.
import * as api from "../api.js";
import {count, day, fill, h, link} from "../dom.js";
import {explain, keepFresh, notice} from "../live.js";
import {badge, roleAtLeast, rules} from "../rules.js";

const PER_PAGE = 50;
const SEARCHABLE = /[^\W_]{3}/u;  // what the API can search: three letters or digits in a row
// The filters the address may hold: the same names as the API's query parameters.
export const FILTERS = ["q", "status", "customer_id", "overdue", "due_from", "due_to", "sort"];
// The page's three orders: the API's sort key and direction for each.
const SORTS = [["newest", "Newest", "created_at", "desc"], ["due_date", "Due date", "due_date", "asc"],
               ["priority", "Priority", "priority", "desc"]];
const HEADINGS = ["Job", "Title", "Customer", "Status", "Priority", "Due", "Steps"];
let refocus = null;  // the control that changed the filters, focused again in the redrawn list

/** Return the API's query string for the filters in `query` (URLSearchParams of the address). */
export function apiQuery(query) {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = query.get(name);
    if (value && name !== "sort") params.set(name, value);
  }
  const [, , sort, order] = SORTS.find(([key]) => key === query.get("sort")) || SORTS[0];
  params.set("sort", sort);
  params.set("order", order);
  return params;
}

function row(job) {
  const cells = [link(`/jobs/${Number(job.id)}`, job.job_number), h("span", {className: "name"}, job.title),
    h("span", {className: "name"}, job.customer_name), badge("job", job.status), badge("priority", job.priority),
    h("span", {className: job.is_overdue ? "late" : ""}, day(job.due_date), job.is_overdue ? " (overdue)" : ""),
    `${job.steps_completed} of ${job.steps_total}`];
  return h("tr", {}, cells.map((cell, index) => h("td", {"data-label": HEADINGS[index]}, cell)));
}

function field(id, label, control) {
  return h("div", {className: "field"}, h("label", {for: id}, label), control);
}

function select(id, options, chosen) {
  return h("select", {id}, options.map(([value, text]) => h("option", {value, selected: value === chosen}, text)));
}

/** Return [id, name] of the first 100 customers, and of the one the address names when it is not among them. */
async function customerOptions(chosen) {
  const page = await api.get("/api/customers?per_page=100");
  const options = page.items.map((customer) => [String(customer.id), customer.name]);
  if (/^\d+$/.test(chosen) && !options.some(([id]) => id === chosen)) {
    const customer = await api.get(`/api/customers/${Number(chosen)}`).catch(() => ({name: `Customer #${chosen}`}));
    options.unshift([chosen, customer.name]);
  }
  return options;
}

/** Save the blob as a file through a temporary link (the request itself carried the bearer token). */
function saveFile(blob, name) {
  const url = URL.createObjectURL(blob);
  const anchor = h("a", {href: url, download: name, hidden: true});
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** Draw the jobs list for the address's filters in `main`; return the function that stops it. */
export function render(main, context) {
  const {user, query} = context;
  const isManager = roleAtLeast(user.role, "manager");
  const search = h("input", {id: "job-search", type: "search", name: "q", value: query.get("q") || "",
    autocomplete: "off", placeholder: "number, title or customer"});
  const status = select("job-filter-status", [["", "Any status"],
    ...rules.job_statuses.map((each) => [each.code, each.label])], query.get("status") || "");
  const chosenCustomer = query.get("customer_id") || "";
  const customer = select("job-filter-customer", [["", "Any customer"],  // named once the customers arrive
    ...(chosenCustomer ? [[chosenCustomer, `Customer #${chosenCustomer}`]] : [])], chosenCustomer);
  const overdue = h("input", {id: "job-filter-overdue", type: "checkbox", checked: query.get("overdue") === "true"});
  overdue.checked = query.get("overdue") === "true";
  const dueFrom = h("input", {id: "job-filter-due-from", type: "date", value: query.get("due_from") || ""});
  const dueTo = h("input", {id: "job-filter-due-to", type: "date", value: query.get("due_to") || ""});
  const sort = select("job-sort", SORTS.map(([key, text]) => [key, text]), query.get("sort") || "newest");
  const shown = h("p", {className: "count-line", "aria-live": "polite"});
  const body = h("tbody", {});
  const more = h("button", {type: "button", hidden: true}, "Load more");
  const exportButton = isManager ? h("button", {type: "button"}, "Export CSV") : null;
  let nextCursor = null, rowsShown = 0, stopped = false;

  function apply(changed) {
    refocus = changed ? changed.id : null;
    const next = new URLSearchParams();
    const values = {q: search.value.trim(), status: status.value, customer_id: customer.value,
                    overdue: overdue.checked ? "true" : "", due_from: dueFrom.value, due_to: dueTo.value,
                    sort: sort.value === "newest" ? "" : sort.value};
    for (const name of FILTERS) if (values[name]) next.set(name, values[name]);
    const hash = `#/jobs${next.toString() ? `?${next}` : ""}`;
    if (location.hash !== hash) location.hash = hash;  // a new history entry: back gives the list before
  }

  /** Show the page after `cursor` (null: the first page, replacing the rows); throw what failed. */
  async function load(cursor) {
    const term = query.get("q") || "";
    if (term && !SEARCHABLE.test(term)) {  // the API's rule (422): say it here instead of asking
      fill(body, h("tr", {}, h("td", {colspan: HEADINGS.length, className: "empty"},
        "Search needs at least three letters or digits in a row.")));
      fill(shown, "");
      return;
    }
    const params = apiQuery(query);
    params.set("per_page", String(PER_PAGE));
    if (cursor) params.set("cursor", cursor);
    const page = await api.get(`/api/jobs?${params}`);
    if (stopped) return;
    if (!cursor) {
      fill(body);
      rowsShown = 0;
    }
    body.append(...page.items.map(row));
    if (!cursor && !page.items.length) {
      body.append(h("tr", {}, h("td", {colspan: HEADINGS.length, className: "empty"}, "No jobs match.")));
    }
    rowsShown += page.items.length;
    nextCursor = page.pagination.next_cursor;
    const total = page.pagination.total;
    fill(shown, `${count(rowsShown)} of ${page.pagination.total_is_estimate ? "about " : ""}${count(total)}`);
    more.hidden = !nextCursor;
  }

  async function loadMore() {
    more.disabled = true;
    try {
      await load(nextCursor);
    } catch (error) {
      if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
      notice(`${explain(error)} Press Load more to try again.`, "error");
    } finally {
      more.disabled = false;
    }
    return undefined;
  }

  async function exportCsv() {
    exportButton.disabled = true;
    try {
      saveFile(await api.download(`/api/jobs?${apiQuery(query)}`, "text/csv"), "jobs.csv");
    } catch (error) {
      if (error instanceof api.SessionEnded) return context.sessionEnded(error.message);
      notice(error.message, "error");
    } finally {
      exportButton.disabled = false;
    }
    return undefined;
  }

  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => apply(search), 600);
  });
  for (const control of [status, customer, overdue, dueFrom, dueTo, sort]) {
    control.addEventListener("change", () => apply(control));
  }
  more.addEventListener("click", loadMore);
  if (exportButton) exportButton.addEventListener("click", exportCsv);

  fill(main,
    h("div", {className: "heading"}, h("h1", {}, "Jobs"),
      isManager ? h("a", {href: "#/jobs/new", className: "button primary"}, "New job") : null),
    h("form", {className: "filters", role: "search", onsubmit: (event) => {
      event.preventDefault();
      clearTimeout(typing);
      apply(search);
    }},
    field("job-search", "Search jobs", search), field("job-filter-status", "Status", status),
    field("job-filter-customer", "Customer", customer),
    h("div", {className: "field check"}, overdue, h("label", {for: "job-filter-overdue"}, "Overdue only")),
    field("job-filter-due-from", "Due from", dueFrom), field("job-filter-due-to", "Due to", dueTo),
    field("job-sort", "Sort by", sort),
    h("button", {type: "submit", className: "primary"}, "Search")),
    h("div", {className: "heading"}, shown, exportButton),
    h("section", {className: "card"}, h("div", {className: "table-wrap"}, h("table", {className: "jobs"},
      h("caption", {}, "Jobs"),
      h("thead", {}, h("tr", {}, HEADINGS.map((text) => h("th", {scope: "col"}, text)))), body))),
    more,
    h("p", {className: "hint shortcuts"}, "Keyboard shortcuts: ", h("kbd", {}, "/"), " search jobs",
      isManager ? [" · ", h("kbd", {}, "n"), " new job"] : null, "."));

  customerOptions(chosenCustomer).then((options) => {
    if (stopped) return;
    fill(customer, h("option", {value: ""}, "Any customer"),
         options.map(([value, text]) => h("option", {value, selected: value === chosenCustomer}, text)));
    customer.value = chosenCustomer;
  }).catch(() => {});  // the filter still works from the address; the list says what failed
  if (refocus) {
    const target = document.getElementById(refocus);
    refocus = null;
    if (target) {
      setTimeout(() => {  // after app.js focuses main
        target.focus();
        if (target.type === "search") target.setSelectionRange(target.value.length, target.value.length);
      }, 0);
    }
  }
  // The first page as every view loads: a failure is said, counted down and retried by itself (live.js).
  let firstShown = false;
  const stopRetrying = keepFresh(async () => {
    if (firstShown) return;
    await load(null);
    firstShown = true;
  }, 60000, context);
  return () => {
    stopped = true;
    stopRetrying();
    clearTimeout(typing);
  };
}

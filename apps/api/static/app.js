// The shop-floor page: log in, then route by the URL fragment to the dashboard, my queue, a job or a machine.
import * as api from "./api.js";
import {fill, h} from "./dom.js";
import {explain, notice, retryButton, sendNow, watchOutbox} from "./live.js";
import {roleAtLeast} from "./rules.js";
import * as loginView from "./views/login.js";
import {listenForShortcuts} from "./shortcuts.js";
import {jobIdOf, jobOf, listenForScans} from "./scanner.js";

// Each view's module is fetched when its route is first opened: a first load moves only what it shows.
const ROUTES = [
  [/^\/dashboard$/, () => import("./views/dashboard.js"), "Dashboard"],
  [/^\/queue$/, () => import("./views/queue.js"), "My queue"],
  [/^\/jobs$/, () => import("./views/jobs.js"), "Jobs"],
  [/^\/jobs\/new$/, () => import("./views/job_form.js"), "New job"],
  [/^\/jobs\/(\d+)$/, () => import("./views/job.js"), "Job"],
  [/^\/jobs\/(\d+)\/ticket$/, () => import("./views/ticket.js"), "Job ticket"],
  [/^\/machines(?:\/(\d+))?$/, () => import("./views/machine.js"), "Machines"],
  [/^\/customers(?:\/(\d+))?(?:\?.*)?$/, () => import("./views/customers.js"), "Customers"],
  [/^\/people$/, () => import("./views/people.js"), "People"],
  [/^\/reports$/, () => import("./views/reports.js"), "Reports"],
  [/^\/devices$/, () => import("./views/devices.js"), "Devices"],
];
// The main navigation: [route, words, the weakest role that sees it].
const NAV = [["/dashboard", "Dashboard", "viewer"], ["/jobs", "Jobs", "viewer"], ["/customers", "Customers", "viewer"],
  ["/queue", "My queue", "viewer"], ["/machines", "Machines", "viewer"], ["/people", "People", "admin"],
  ["/reports", "Reports", "manager"], ["/devices", "Devices", "manager"]];
const INTENDED = "printshop.intended";  // the page a login returns to (an ended session keeps it)

const main = document.getElementById("main");
let stopView = () => {};
let routing = 0;  // the latest route() call: a view whose module arrives after another route is dropped

function home() {
  const role = api.user() && api.user().role;
  return role === "operator" ? "/queue" : "/dashboard";
}

function showBar(route) {
  const current = api.user();
  document.getElementById("bar").hidden = !current;
  if (!current) return;
  fill(document.getElementById("who"), `${current.username} · ${current.role}`);
  fill(document.getElementById("nav"), NAV.filter(([, , role]) => roleAtLeast(current.role, role)).map(([path, text]) =>
    h("a", {href: `#${path}`, "aria-current": route.startsWith(path) ? "page" : undefined}, text)));
}

/** Clear every view, timer and value on the page (logout, an ended session, a page shown from bfcache). */
function clearPage() {
  stopView();
  stopView = () => {};
  fill(main);
  notice(null);
  showBar("");
}

function toLogin(message) {
  clearPage();
  const path = location.hash.replace(/^#/, "");
  if (path && path !== "/login" && path !== "/") sessionStorage.setItem(INTENDED, path);
  if (location.hash !== "#/login") history.replaceState(null, "", "#/login");
  stopView = loginView.render(main, {message, done: () => {
    const back = sessionStorage.getItem(INTENDED);
    sessionStorage.removeItem(INTENDED);
    location.hash = `#${back || home()}`;
    sendNow();  // taps kept while the session had ended
  }});
}

async function route() {
  const mine = ++routing;
  const [path, search = ""] = (location.hash.replace(/^#/, "") || "/").split("?");
  if (!api.loggedIn()) return toLogin();
  if (!api.user()) {
    try {
      await api.whoAmI();
    } catch (error) {
      if (error instanceof api.SessionEnded) return toLogin(error.message);
      notice(`${explain(error)} Retrying in 3 s.`, "error", retryButton(() => route()));
      setTimeout(route, 3000);
      return undefined;
    }
  }
  const match = ROUTES.map(([pattern, view, title]) => [path.match(pattern), view, title]).find(([found]) => found);
  if (!match) {
    history.replaceState(null, "", `#${home()}`);
    return route();
  }
  const [found, load, title] = match;
  stopView();
  stopView = () => {};
  notice(null);
  showBar(path);
  document.title = `${title} · Shop floor`;
  main.setAttribute("aria-busy", "true");
  fill(main, h("p", {className: "loading"}, "Loading…"));
  let view;
  try {
    view = await load();
  } catch (error) {  // the module could not be fetched (network down): say so and offer another try
    notice("This page could not be loaded. Check the network.", "error", retryButton(() => route()));
    return undefined;
  }
  if (mine !== routing) return undefined;
  stopView = view.render(main, {params: found.slice(1), query: new URLSearchParams(search),
                                 user: api.user(), sessionEnded: toLogin}) || (() => {});
  main.focus({preventScroll: true});  // keyboard and screen reader users start in the new view
  return undefined;
}

const LOGOUT_RETRY_MS = 5000;
const NOT_TOLD = "You are logged out on this device, but the server could not be told: "
  + "your session stays valid there until it is. This page tells it as soon as the server answers.";
let logoutRetry = null;

/** Keep retrying a logout the server was not told of, until it is (then say so on the login page). */
function retryLogoutUntilTold() {
  if (logoutRetry !== null || !api.logoutPending()) return;
  logoutRetry = setInterval(async () => {
    if (!(await api.retryLogout())) return;
    clearInterval(logoutRetry);
    logoutRetry = null;
    if (location.hash === "#/login" && !api.loggedIn()) toLogin("You are logged out. The server has been told.");
  }, LOGOUT_RETRY_MS);
}

document.getElementById("logout").addEventListener("click", async () => {
  clearPage();
  sessionStorage.removeItem(INTENDED);
  let told = true;
  try {
    told = await api.logout();  // the tokens are dropped here whatever the answer
  } catch (error) {
    told = false;
  }
  history.replaceState(null, "", "#/login");
  toLogin(told ? "You are logged out." : NOT_TOLD);
  sessionStorage.removeItem(INTENDED);
  retryLogoutUntilTold();
});

window.addEventListener("online", () => { api.retryLogout(); });
retryLogoutUntilTold();  // a logout left untold by an earlier visit

// Coming back through bfcache (back button after logout or after leaving the page): nothing may show
// unless this tab still has its session.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && !api.loggedIn()) toLogin();
});
window.addEventListener("hashchange", route);
listenForShortcuts(() => api.user());
// A scanned ticket (its address or its job number, typed by a handheld scanner) opens the job.
listenForScans(async (text) => {
  const scan = jobOf(text);
  if (!scan || !api.user()) return;
  try {
    const id = await jobIdOf(scan);
    if (id) location.hash = `#/jobs/${id}`;
    else notice(`No job ${scan.number} was found.`, "warn");
  } catch (error) {
    notice(explain(error), "error");
  }
});
watchOutbox(toLogin);
route().then(() => sendNow());

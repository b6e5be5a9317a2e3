// The shop-floor page: log in, then route by the URL fragment to the dashboard, my queue, a job or a machine.
import * as api from "./api.js";
import {fill, h} from "./dom.js";
import {explain, notice} from "./live.js";
import * as loginView from "./views/login.js";
import * as dashboardView from "./views/dashboard.js";
import * as queueView from "./views/queue.js";
import * as jobView from "./views/job.js";
import * as machineView from "./views/machine.js";
import * as devicesView from "./views/devices.js";
import {jobIdOf, jobOf, listenForScans} from "./scanner.js";

const ROUTES = [
  [/^\/dashboard$/, dashboardView, "Dashboard"],
  [/^\/queue$/, queueView, "My queue"],
  [/^\/jobs\/(\d+)$/, jobView, "Job"],
  [/^\/machines(?:\/(\d+))?$/, machineView, "Machines"],
  [/^\/devices$/, devicesView, "Devices"],
];
// [route, words, the weakest role that sees it]
const NAV = [["/dashboard", "Dashboard"], ["/queue", "My queue"], ["/machines", "Machines"],
             ["/devices", "Devices", "manager"]];
const RANK = {viewer: 0, operator: 1, manager: 2, admin: 3};

const main = document.getElementById("main");
let stopView = () => {};

function home() {
  const role = api.user() && api.user().role;
  return role === "operator" ? "/queue" : "/dashboard";
}

function showBar(route) {
  const current = api.user();
  document.getElementById("bar").hidden = !current;
  if (!current) return;
  fill(document.getElementById("who"), `${current.username} · ${current.role}`);
  const shown = NAV.filter(([, , minimum]) => !minimum || RANK[current.role] >= RANK[minimum]);
  fill(document.getElementById("nav"), shown.map(([path, text]) =>
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
  if (location.hash !== "#/login") history.replaceState(null, "", "#/login");
  stopView = loginView.render(main, {message, done: () => { location.hash = `#${home()}`; }});
}

async function route() {
  const path = location.hash.replace(/^#/, "") || "/";
  if (!api.loggedIn()) return toLogin();
  if (!api.user()) {
    try {
      await api.whoAmI();
    } catch (error) {
      if (error instanceof api.SessionEnded) return toLogin(error.message);
      notice(`${explain(error)} Retrying in 3 s.`, "error");
      setTimeout(route, 3000);
      return undefined;
    }
  }
  const match = ROUTES.map(([pattern, view, title]) => [path.match(pattern), view, title]).find(([found]) => found);
  if (!match) {
    history.replaceState(null, "", `#${home()}`);
    return route();
  }
  const [found, view, title] = match;
  stopView();
  notice(null);
  showBar(path);
  document.title = `${title} · Shop floor`;
  main.setAttribute("aria-busy", "true");
  fill(main, h("p", {className: "loading"}, "Loading…"));
  stopView = view.render(main, {params: found.slice(1), user: api.user(), sessionEnded: toLogin}) || (() => {});
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
  let told = true;
  try {
    told = await api.logout();  // the tokens are dropped here whatever the answer
  } catch (error) {
    told = false;
  }
  history.replaceState(null, "", "#/login");
  toLogin(told ? "You are logged out." : NOT_TOLD);
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
route();

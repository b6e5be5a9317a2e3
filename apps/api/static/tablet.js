// The shared tablet by a machine: operators pick their name, type their PIN on a big pad (gloves), and work
// their queue for this machine. A scanned ticket (scanner or camera) puts that job's next step on top with one
// big button: scan to running in two actions. Nobody touching it for the manager's idle time signs out.
import * as api from "./api.js";
import {day, fill, h} from "./dom.js";
import {explain, notice} from "./live.js";
import {jobIdOf, jobOf, listenForScans} from "./scanner.js";
import {badge, rules} from "./rules.js";
import {move, movesFor, processesOf} from "./steps.js";

const TOKEN_KEY = "printshop.tablet";
const PIN_MAX = 8;
const main = document.getElementById("main");
const who = document.getElementById("who");
const signOutButton = document.getElementById("sign-out");
const deviceToken = api.adoptDeviceToken(TOKEN_KEY);
let tablet = null;          // GET /api/tablet: the device, its machine, its operators, its idle time
let idleTimer = null;
let scanned = null;         // the job id last scanned while signed in

function ready() {
  main.removeAttribute("aria-busy");
}

function personName(person) {
  return person.full_name || person.username;
}

function resetIdle() {
  clearTimeout(idleTimer);
  if (api.user() && tablet) idleTimer = setTimeout(() => signOut(`Signed out after ${tablet.idle_seconds} s without a touch.`),
    tablet.idle_seconds * 1000);
}

async function signOut(message) {
  clearTimeout(idleTimer);
  scanned = null;
  try {
    await api.logout();
  } catch (error) {
    // forgotten here whatever the answer: the session ends on the server at its lifetime or the device's revoke
  }
  showOperators(message);
}

async function loadTablet() {
  const {body} = await api.deviceGet("/api/tablet", deviceToken);
  tablet = body;
  fill(document.getElementById("device-name"), tablet.machine ? `${tablet.name} · ${tablet.machine.name}` : tablet.name);
}

async function showOperators(message) {
  signOutButton.hidden = true;
  fill(who);
  notice(message || null, "info");
  try {
    await loadTablet();
  } catch (error) {
    ready();
    const why = error.status === 401 ? "This tablet's token is refused (revoked?): ask a manager to register it again."
      : explain(error);
    fill(main, h("p", {className: "form-error"}, why), h("button", {type: "button", className: "primary big",
      onclick: () => showOperators()}, "Retry now"));
    return;
  }
  fill(main, h("h1", {}, "Who is working?"),
    tablet.operators.length ? h("div", {className: "people"}, tablet.operators.map((person) => h("button", {
      type: "button", className: "person", onclick: () => showPinPad(person)}, personName(person))))
      : h("p", {className: "hint"}, "Nobody has a PIN yet: set one under your account, or ask an admin."));
  ready();
}

function showPinPad(person) {
  let digits = "";
  const shown = h("output", {className: "pin-shown", id: "pin-shown", "aria-live": "polite", "aria-label": "PIN typed"});
  const error = h("p", {className: "form-error", role: "alert"});
  const submit = h("button", {type: "button", className: "primary key ok", onclick: () => send()}, "Sign in");
  function redraw() {
    fill(shown, digits ? "●".repeat(digits.length) : "—");
  }
  function press(digit) {
    if (digits.length < PIN_MAX) digits += digit;
    redraw();
  }
  async function send() {
    if (digits.length < 4) {
      fill(error, "A PIN has 4 to 8 digits.");
      return;
    }
    submit.disabled = true;
    try {
      await api.pinLogin(deviceToken, person.username, digits);
      await showQueue();
    } catch (failure) {
      digits = "";
      redraw();
      submit.disabled = false;
      fill(error, failure.status === 401 ? "Wrong PIN. Try again."
        : failure.status === 429 ? failure.message : explain(failure));
    }
  }
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((digit) => h("button", {
    type: "button", className: "key", onclick: () => press(digit)}, digit));
  fill(main, h("h1", {}, `PIN for ${personName(person)}`), shown, error,
    h("div", {className: "pad", role: "group", "aria-label": "PIN pad"}, keys,
      h("button", {type: "button", className: "key quiet", onclick: () => { digits = digits.slice(0, -1); redraw(); }},
        "⌫", h("span", {className: "sr-only"}, " Delete")),
      h("button", {type: "button", className: "key", onclick: () => press("0")}, "0"), submit),
    h("button", {type: "button", className: "quiet big", onclick: () => showOperators()}, "Back"));
  redraw();
  ready();
}

function stepCard(step, processes, onMove, lead) {
  // one tap each on the shared tablet: no Skip, and no Pause (it asks a reason; My queue has it)
  const moves = movesFor(api.user(), step, step.job_status, processes)
    .filter(([, status]) => status === "in_progress" || status === "completed");
  return h("article", {className: lead ? "step-card scanned" : "step-card", "data-step-id": step.id},
    h("p", {className: "job-line"}, h("span", {className: "job"}, step.job_number), " ", badge("step", step.status)),
    h("p", {className: "title"}, step.title),
    h("p", {}, `${step.step_order}. ${step.name} · due ${day(step.due_date)}`),
    h("div", {className: "actions"}, moves.map(([label, status]) => h("button", {
      type: "button", className: "primary floor", "aria-label": `${label} ${step.name} of job ${step.job_number}`,
      onclick: (event) => { event.currentTarget.disabled = true; onMove(step, status, label); }}, label))));
}

async function showQueue() {
  signOutButton.hidden = false;
  fill(who, `${api.user().username}`);
  resetIdle();
  const machine = tablet.machine;
  const path = `/api/me/steps?per_page=50${machine ? `&machine_id=${Number(machine.id)}` : ""}`;
  const [page, processes] = await Promise.all([api.get(path), processesOf(api.user())]);
  const open = page.items.filter((step) => !rules.closed_step_statuses.includes(step.status));
  const onMove = async (step, status, label) => {
    const outcome = await move(step, {status}, step.etag, label, {sessionEnded: (text) => signOut(text)});
    if (outcome === "done" && status === "in_progress") scanned = null;
    if (api.user()) await showQueue().catch((error) => notice(explain(error), "error"));
  };
  let lead = null;
  const next = scanned === null ? null : open.find((step) => step.job_id === scanned);
  if (scanned !== null) {
    lead = next ? stepCard(next, processes, onMove, true)
      : h("p", {className: "notice warn"}, "Nothing of the scanned job waits for you on this machine.");
  }
  const rest = open.filter((step) => step !== next);
  fill(main, h("h1", {}, machine ? `${personName(api.user())} at ${machine.name}` : personName(api.user())),
    lead ? h("section", {"aria-label": "Scanned job"}, lead) : null,
    camera(),
    rest.length ? h("section", {className: "cards", "aria-label": "My steps here"},
      rest.map((step) => stepCard(step, processes, onMove, false)))
      : h("p", {className: "hint"}, "Nothing waits for you here."));
  ready();
}

async function onScan(text) {
  const scan = jobOf(text);
  if (!scan || !api.user()) return;
  try {
    scanned = await jobIdOf(scan);
    if (scanned === null) notice(`No job ${scan.number} was found.`, "warn");
    await showQueue();
  } catch (error) {
    notice(explain(error), "error");
  }
}

/** A camera button where the browser reads barcodes itself (BarcodeDetector); nothing where it does not. */
function camera() {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return null;
  return h("button", {type: "button", className: "quiet big", onclick: async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
      const video = h("video", {className: "camera", muted: true, playsinline: true});
      video.srcObject = stream;
      button.after(video);
      await video.play();
      const detector = new window.BarcodeDetector({formats: ["qr_code", "code_128"]});
      for (let tries = 0; tries < 100 && !video.hidden; tries += 1) {
        const [code] = await detector.detect(video);
        if (code) { video.remove(); await onScan(code.rawValue); break; }
        await new Promise((resolve) => { setTimeout(resolve, 200); });
      }
    } catch (error) {
      notice("The camera cannot be used here.", "warn");
    } finally {
      if (stream) stream.getTracks().forEach((track) => track.stop());
      button.disabled = false;
    }
  }}, "Scan with camera");
}

signOutButton.addEventListener("click", () => signOut("Signed out."));
for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, resetIdle, true);
listenForScans(onScan);
if (!deviceToken) {
  fill(main, h("p", {className: "form-error"},
    "No device token: open this page as /tablet#device=<token> (a manager's Devices page, Register device)."));
  ready();
} else {
  api.forget();  // a tablet starts with nobody signed in
  showOperators();
}

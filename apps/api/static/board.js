// The wall board: every machine with what runs on it and what is next, every running step with its job number
// (newest first, so the newest stay when space runs out), late jobs marked, today's completions. It asks the
// server every second with If-None-Match: the answer is cached in every worker and dropped by the database's
// NOTIFY within a second of any change, so an unchanged board costs a 304 (bench/boards.py measured it).
import * as api from "./api.js";
import {fill, h} from "./dom.js";

const TOKEN_KEY = "printshop.board";
const EVERY_MS = 1000;
const board = document.getElementById("board");
const status = document.getElementById("board-status");
const token = api.adoptDeviceToken(TOKEN_KEY);
let failures = 0;

function say(message) {
  status.hidden = !message;
  fill(status, message || "");
}

function lateMark(step) {
  return step.late ? h("span", {className: "late-mark"}, "⚠ LATE") : null;
}

const RUNNING_PER_MACHINE = 3;  // the rest are in "Running now"

function machineCard(machine) {
  const more = machine.running.length - RUNNING_PER_MACHINE;
  const running = machine.running.length
    ? machine.running.slice(0, RUNNING_PER_MACHINE).map((step) => h("p", {className: step.late ? "late" : ""},
      "▶ ", h("span", {className: "job"}, step.job_number), ` ${step.step_name}`, lateMark(step),
      step.operator_name || step.operator_username
        ? h("span", {className: "meta"}, ` · ${step.operator_name || step.operator_username}`) : null))
    : [h("p", {className: "idle"}, "Nothing running")];
  if (more > 0) running.push(h("p", {className: "meta"}, `+ ${more} more running`));
  const next = machine.next.length
    ? h("p", {className: "next"}, "Next: ", machine.next.flatMap((step, index) => [
      index ? ", " : "", h("b", {}, step.job_number), step.late ? " ⚠ late" : ""]))
    : h("p", {className: "next"}, "Next: nothing waiting");
  return h("article", {className: "machine", "data-machine-id": machine.id},
    h("h3", {}, machine.name, h("span", {className: "state"}, ` · ${machine.status}`)), running, next);
}

function runningItem(step) {
  const since = step.started_at ? new Date(step.started_at).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"})
    : "";
  return h("li", {className: step.late ? "late" : "", "data-step-id": step.step_id},
    h("span", {className: "job"}, step.job_number), lateMark(step), ` ${step.step_name}`,
    h("span", {className: "meta"}, ` · ${step.title}${since ? ` · since ${since}` : ""}`));
}

function draw(feed) {
  fill(document.getElementById("totals"),
    h("strong", {}, String(feed.running.length)), " running · ",
    h("strong", {}, String(feed.late_jobs)), " late jobs · ",
    h("strong", {}, String(feed.done_today.total)), " steps done today");
  fill(board,
    h("section", {"aria-labelledby": "machines-title"}, h("h2", {id: "machines-title"}, "Machines"),
      h("div", {className: "machines"}, feed.machines.map(machineCard))),
    h("div", {className: "side"},
      h("section", {"aria-labelledby": "running-title"}, h("h2", {id: "running-title"}, "Running now, newest first"),
        feed.running.length ? h("ol", {className: "running"}, feed.running.map(runningItem))
          : h("p", {}, "Nothing is running.")),
      h("section", {"aria-labelledby": "done-title"}, h("h2", {id: "done-title"}, `Done today: ${feed.done_today.total}`),
        h("ol", {className: "done"}, feed.done_today.items.map((step) => h("li", {},
          "✓ ", h("span", {className: "job"}, step.job_number), ` ${step.step_name}`))))));
  board.removeAttribute("aria-busy");
}

async function tick() {
  let wait = EVERY_MS;
  try {
    const {body, changed} = await api.deviceGet("/api/board", token);
    if (changed) draw(body);
    if (failures) say(null);
    failures = 0;
  } catch (error) {
    failures += 1;
    wait = Math.min(10000, Math.max(EVERY_MS, (error.retryAfter || 0) * 1000, 500 * 2 ** Math.min(failures, 5)));
    const why = error.status === 401 ? "This board's token is refused (revoked?): register the board again."
      : error.status === 0 ? "The server cannot be reached." : error.message;
    say(`${why} Trying again in ${Math.round(wait / 1000)} s.`);
  }
  setTimeout(tick, wait);
}

function clock() {
  fill(document.getElementById("clock"), new Date().toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"}));
}

if (!token) {
  say("No device token: open this page as /board#device=<token> (Devices page, Register device).");
  board.removeAttribute("aria-busy");
  fill(board);
} else {
  tick();
}
clock();
setInterval(clock, 15000);

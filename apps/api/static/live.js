// What keeps a view current: the status line, a loop that retries by itself (with a countdown and Retry now)
// when the server cannot answer, and the strip that shows the outbox's waiting taps.
import * as api from "./api.js";
import {fill, h} from "./dom.js";
import * as outbox from "./outbox.js";

const line = document.getElementById("notice");
// Messages and waiting taps sit in a dock at the bottom of the window: a message never pushes the card
// under the finger down the page. The page keeps room below its end for the dock.
const dock = h("div", {className: "dock"});
line.before(dock);
dock.append(line);
new ResizeObserver(() => {
  document.getElementById("main").style.paddingBottom = dock.offsetHeight ? `${dock.offsetHeight + 16}px` : "";
}).observe(dock);
let fading = null;

/**
 * Say `message` in the status line (read out by screen readers), or hide it with null; `action` is a button.
 * A message that something went well goes by itself after 6 s.
 */
export function notice(message, kind = "info", action = null) {
  clearTimeout(fading);
  line.hidden = !message;
  line.className = `notice ${kind}`;
  fill(line, message || "", action ? " " : "", action);
  if (message && kind === "ok") fading = setTimeout(() => notice(null), 6000);
}

/** Say in words why a request failed. */
export function explain(error) {
  if (error instanceof api.ApiError && error.status === 503) return "The database is unavailable right now.";
  if (error instanceof api.ApiError && error.status === 0) return "The server cannot be reached.";
  if (error instanceof api.ApiError && error.status === 429) return "Too many requests.";
  return error.message || "Something went wrong.";
}

/** A "Retry now" button calling `again`. */
export function retryButton(again) {
  return h("button", {type: "button", className: "quiet", onclick: again}, "Retry now");
}

/**
 * Run `task` now and then every `everyMs` (while the tab is visible); on a failure say why, count down to the
 * next try (backing off up to 30 s) and offer Retry now. A 404 calls `notFound` once and stops. Return a
 * function that stops the loop.
 */
export function keepFresh(task, everyMs, {sessionEnded, notFound}) {
  let timer = null, countdown = null, stopped = false, failures = 0;

  async function tick() {
    clearTimeout(timer);
    clearInterval(countdown);
    timer = null;
    if (stopped || document.hidden) return;  // resumed by visibilitychange: a background tab costs nothing
    let wait = everyMs;
    try {
      await task();
      document.getElementById("main").removeAttribute("aria-busy");  // the view has its data
      if (failures) notice(null);
      failures = 0;
    } catch (error) {
      if (stopped) return;
      if (error instanceof api.SessionEnded) return sessionEnded(error.message);
      if (error instanceof api.ApiError && error.status === 404 && notFound) {
        stopped = true;
        document.getElementById("main").removeAttribute("aria-busy");
        return notFound(error);
      }
      failures += 1;
      wait = Math.min(30000, Math.max(error.retryAfter * 1000 || 0, 1000 * 2 ** Math.min(failures, 5)));
      let left = Math.round(wait / 1000);
      const say = () => notice(`${explain(error)} Retrying in ${left} s.`, "error", retryButton(tick));
      say();
      countdown = setInterval(() => { left = Math.max(0, left - 1); say(); }, 1000);
    }
    if (!stopped && !timer) timer = setTimeout(tick, wait);
  }

  function onVisible() {
    if (!document.hidden && !stopped) tick();
  }

  function onBack() {  // the network or a waiting tap came back: do not wait for the next period
    if (!stopped) tick();
  }

  document.addEventListener("visibilitychange", onVisible);
  window.addEventListener("online", onBack);
  window.addEventListener("printshop:sent", onBack);
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(countdown);
    document.removeEventListener("visibilitychange", onVisible);
    window.removeEventListener("online", onBack);
    window.removeEventListener("printshop:sent", onBack);
  };
}

export const OUTBOX_RETRY_S = 5;  // while taps wait: a try every 5 s (and at once when the network returns)
const strip = h("div", {className: "outbox", id: "outbox", role: "status", "aria-live": "polite", hidden: true});
dock.append(strip);
let left = OUTBOX_RETRY_S, sending = false, onSessionEnded = () => {};

function mine() {
  const current = api.user();
  return current ? outbox.entries(current.id) : [];
}

// The strip's parts stay in place; the countdown only changes a text, so a finger on Retry now never
// lands on a button that was just replaced.
const waitingCount = h("strong");
const waitingNext = h("span");
const waitingLine = h("p", {className: "waiting"}, waitingCount, " ", waitingNext, " ",
                      retryButton(() => sendNow()));
const refusedList = h("div");
strip.append(waitingLine, refusedList);

function drawCountdown() {
  fill(waitingNext, sending ? "Sending…" : `Not sent yet. Next try in ${left} s.`);
}

function drawStrip() {
  const entries = mine();
  const waiting = entries.filter((entry) => entry.state === "waiting");
  const refused = entries.filter((entry) => entry.state !== "waiting");
  strip.hidden = !entries.length;
  waitingLine.hidden = !waiting.length;
  waitingLine.title = waiting.map((entry) => entry.label).join("; ");
  fill(waitingCount, `waiting (${waiting.length})`);
  drawCountdown();
  fill(refusedList, refused.map((entry) => h("p", {className: "refused"},
    `${entry.label}: not sent. ${entry.detail || "Someone else changed it meanwhile."} `,
    h("button", {type: "button", className: "quiet", onclick: () => outbox.remove(entry.id)}, "Dismiss"))));
}

/** Send the waiting taps now; say what happened. */
export async function sendNow() {
  if (sending || !api.user() || !mine().some((entry) => entry.state === "waiting")) return;
  sending = true;
  drawStrip();
  try {
    const sent = await api.flush();
    if (sent) window.dispatchEvent(new CustomEvent("printshop:sent", {detail: {sent}}));
  } catch (error) {
    if (error instanceof api.SessionEnded) onSessionEnded(error.message);
  } finally {
    sending = false;
    left = OUTBOX_RETRY_S;
    drawStrip();
  }
}

/** Start showing and sending the outbox (once per page load); `sessionEnded` is called if a replay needs a login. */
export function watchOutbox(sessionEnded) {
  onSessionEnded = sessionEnded;
  outbox.subscribe(drawStrip);
  window.addEventListener("online", () => sendNow());
  setInterval(() => {
    if (!mine().some((entry) => entry.state === "waiting")) return;
    left -= 1;
    if (left <= 0) sendNow();
    else drawCountdown();
  }, 1000);
  drawStrip();
}

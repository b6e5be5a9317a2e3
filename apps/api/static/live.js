// What keeps a view current: the status line, and a loop that retries by itself when the server cannot answer.
import {ApiError, SessionEnded} from "./api.js";
import {fill} from "./dom.js";

const line = document.getElementById("notice");

/** Say `message` in the status line (read out by screen readers), or hide it with null. */
export function notice(message, kind = "info") {
  line.hidden = !message;
  line.className = `notice ${kind}`;
  fill(line, message || "");
}

/** Say in words why a request failed. */
export function explain(error) {
  if (error instanceof ApiError && error.status === 503) return "The database is unavailable right now.";
  if (error instanceof ApiError && error.status === 0) return "The server cannot be reached.";
  if (error instanceof ApiError && error.status === 429) return "Too many requests.";
  return error.message || "Something went wrong.";
}

/**
 * Run `task` now and then every `everyMs` (while the tab is visible); on a failure show why and retry,
 * backing off up to 30 s. Return a function that stops the loop.
 */
export function keepFresh(task, everyMs, {sessionEnded}) {
  let timer = null, stopped = false, failures = 0;

  async function tick() {
    timer = null;
    if (stopped) return;
    if (document.hidden) return;  // resumed by visibilitychange: a background tab costs the server nothing
    let wait = everyMs;
    try {
      await task();
      document.getElementById("main").removeAttribute("aria-busy");  // the view has its data
      if (failures) notice(null);
      failures = 0;
    } catch (error) {
      if (stopped) return;
      if (error instanceof SessionEnded) {
        sessionEnded(error.message);
        return;
      }
      failures += 1;
      wait = Math.min(30000, Math.max(error.retryAfter * 1000 || 0, 1000 * 2 ** Math.min(failures, 5)));
      notice(`${explain(error)} Retrying in ${Math.round(wait / 1000)} s.`, "error");
    }
    if (!stopped && !timer) timer = setTimeout(tick, wait);
  }

  function onVisible() {
    if (!document.hidden && !timer && !stopped) tick();
  }

  document.addEventListener("visibilitychange", onVisible);
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
}

// A step's time on the page: worked and paused seconds as the server counted them (the database's clock),
// plus the time since that answer arrived (a monotonic clock), never from the browser's wall clock alone.
import {h} from "./dom.js";
import {pauseReasons} from "./steps.js";

const shown = new Set();  // the time lines drawn, each {element, worked, paused, status, since, reason}

/** Format seconds as h:mm:ss. */
export function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(whole / 3600), minutes = Math.floor((whole % 3600) / 60), rest = whole % 60;
  return `${hours}:${String(minutes).padStart(2, "0")}:${String(rest).padStart(2, "0")}`;
}

function draw(line) {
  const elapsed = (performance.now() - line.since) / 1000;
  const worked = line.worked + (line.status === "in_progress" ? elapsed : 0);
  const paused = line.paused + (line.status === "paused" ? elapsed : 0);
  line.element.textContent = `Worked ${clock(worked)} · Paused ${clock(paused)}` +
    (line.status === "paused" && line.reason ? ` (${line.reason})` : "");
}

/** A line with the step's worked and paused time, running while it is worked or paused; null without times. */
export function timeLine(step) {
  if (typeof step.worked_seconds !== "number") return null;  // an API that does not count time yet
  const element = h("span", {className: "step-time", "data-worked": step.worked_seconds,
                             "data-paused": step.paused_seconds || 0});
  const line = {element, worked: step.worked_seconds, paused: step.paused_seconds || 0, status: step.status,
                since: performance.now(), reason: step.pause_reason || ""};
  if (step.pause_reason) {
    pauseReasons().then((known) => { line.reason = known.get(step.pause_reason) || step.pause_reason; draw(line); })
      .catch(() => {});
  }
  shown.add(line);
  draw(line);
  return element;
}

setInterval(() => {
  for (const line of shown) {
    if (!line.element.isConnected) {
      if (performance.now() - line.since > 5000) shown.delete(line);  // drawn and gone (not yet placed: kept)
    }
    else if (line.status === "in_progress" || line.status === "paused") draw(line);
  }
}, 1000);

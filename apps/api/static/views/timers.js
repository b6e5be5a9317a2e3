// The dashboard's flag of timers left running (managers): steps whose work has run longer than the limit or
// past the end of a shift, from GET /api/reports/running-timers (the server keeps the limit and the shift).
import * as api from "../api.js";
import {count, fill, h, link, table} from "../dom.js";
import {roleAtLeast} from "../rules.js";

/** Whether the signed-in user sees the flag (the route answers managers and admins). */
export function seesTimers() {
  const role = api.user() && api.user().role;
  return Boolean(role) && roleAtLeast(role, "manager");
}

function duration(seconds) {
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${hours} h ${String(minutes).padStart(2, "0")} min`;
}

/** Fill `section` with the flagged timers (nothing is shown to those who do not see them). */
export async function showTimers(section) {
  if (!seesTimers()) return;
  const body = await api.get("/api/reports/running-timers");
  const rows = body.items.map((timer) => [
    link(`/jobs/${Number(timer.job_id)}`, timer.job_number), timer.name, duration(timer.running_seconds),
    [timer.over_limit ? `over ${body.limit_hours} h` : null,
     timer.past_shift_end ? `past ${body.shift_end} (end of shift)` : null].filter(Boolean).join(" · ")]);
  fill(section, table(`Timers left running: ${count(body.total)}`, ["Job", "Step", "Running", "Why"], rows,
                      "No timer runs too long."));
  section.classList.toggle("alert", body.total > 0);
}

/** The empty section the dashboard places its flag in. */
export function timersSection() {
  return h("section", {className: "card", id: "running-timers", hidden: !seesTimers()});
}

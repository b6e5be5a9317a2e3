// Scan to work: a handheld scanner types quickly (well under 50 ms a key) and ends with Enter. Keys typed so,
// anywhere while no field has focus, are a scan: the job's address (<origin>/#/jobs/<id>) or its number
// (JOB-0000123) names the job to open.
import * as api from "./api.js";

const GAP_MS = 50;
const MIN_LENGTH = 4;
const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function typingInAField() {
  const active = document.activeElement;
  return Boolean(active) && (FIELDS.has(active.tagName) || active.isContentEditable);
}

/** Read what a scan names: {id} for a job's address, {number} for a job number, or null. */
export function jobOf(text) {
  const address = /#\/jobs\/(\d+)(?:[/?]|$)/.exec(text);
  if (address) return {id: Number(address[1])};
  const number = /^\s*(JOB-\d{1,12})\s*$/i.exec(text);
  return number ? {number: number[1].toUpperCase()} : null;
}

/** Return the id of the job a scan names (a job number is looked up), or null when there is none. */
export async function jobIdOf(scan) {
  if (scan.id) return scan.id;
  const page = await api.get(`/api/jobs?q=${encodeURIComponent(scan.number)}&per_page=5`);
  const job = page.items.find((item) => item.job_number.toUpperCase() === scan.number);
  return job ? job.id : null;
}

/** Call `onScan(text)` for every scan typed on the document; return the function that stops listening. */
export function listenForScans(onScan) {
  let keys = "", last = 0;
  function onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typingInAField()) return;
    const now = performance.now();
    const quick = now - last < GAP_MS;
    if (event.key === "Enter") {
      const text = keys;
      keys = "";
      if (quick && text.length >= MIN_LENGTH) {
        event.preventDefault();  // a focused button must not be pressed by the scanner's Enter
        onScan(text);
      }
      return;
    }
    if (event.key.length !== 1) return;  // Shift and friends: not characters, and no gap of their own
    keys = quick ? keys + event.key : event.key;
    last = now;
  }
  document.addEventListener("keydown", onKey, true);
  return () => document.removeEventListener("keydown", onKey, true);
}

// Keyboard shortcuts for what a manager does all day: "/" searches jobs, "n" opens a new job.
//
// Read only when no field has focus and no modifier is held. A handheld scanner also types into the document
// (a job's address holds "/" and often "n"), but its characters come well under 50 ms apart: a shortcut
// waits SCANNER_GAP_MS and is dropped when another key follows that fast.
import {roleAtLeast} from "./rules.js";

const SCANNER_GAP_MS = 60;
const FIELDS = new Set(["INPUT", "TEXTAREA", "SELECT"]);

function inField(target) {
  return Boolean(target && (FIELDS.has(target.tagName) || target.isContentEditable));
}

function focusSearch() {
  const box = document.getElementById("job-search");
  if (box) {
    box.focus();
    box.select();
    return;
  }
  location.hash = "#/jobs";
  // the list draws its search box on the hashchange; focus it once it is there
  const started = Date.now();
  const look = () => {
    const found = document.getElementById("job-search");
    if (found) found.focus();
    else if (Date.now() - started < 3000) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}

/** Listen on the document for the shortcuts while `currentUser()` is someone. */
export function listenForShortcuts(currentUser) {
  let pending = null;
  document.addEventListener("keydown", (event) => {
    if (pending) {  // another key this soon: a scanner's burst, not a person's shortcut
      clearTimeout(pending);
      pending = null;
      return;
    }
    const user = currentUser();
    if (!user || event.ctrlKey || event.metaKey || event.altKey || inField(event.target)) return;
    let action = null;
    if (event.key === "/") action = focusSearch;
    else if (event.key === "n" && roleAtLeast(user.role, "manager")) action = () => { location.hash = "#/jobs/new"; };
    if (!action) return;
    event.preventDefault();  // "/" would open the browser's quick find
    pending = setTimeout(() => {
      pending = null;
      action();
    }, SCANNER_GAP_MS);
  });
}

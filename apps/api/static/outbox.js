// The outbox: writes the page could not send (network down, database down, session ended), kept in
// localStorage so that a reload or a new login still has them. api.js adds and sends; live.js shows them.
//
// An entry: {id, userId, method, path, body, ifMatch, headers, expect, label, stepId, queuedAt, state, detail}.
// `ifMatch` is the ETag the tap was made against, `headers` carry an Idempotency-Key (creating POSTs), `expect` the
// fields the item must still have (a tap made where no ETag was at hand): each makes a replay land once.

const STORE = "printshop.outbox";
const listeners = new Set();

function read() {
  try {
    const entries = JSON.parse(localStorage.getItem(STORE) || "[]");
    return Array.isArray(entries) ? entries : [];
  } catch (error) {
    return [];
  }
}

function save(entries) {
  localStorage.setItem(STORE, JSON.stringify(entries));
  listeners.forEach((listener) => listener());
}

/** Return the user's entries, oldest first (all of them with no user). */
export function entries(userId) {
  return read().filter((entry) => userId === undefined || entry.userId === userId);
}

/** Keep a write to send later; return the entry. */
export function add(entry) {
  const kept = {id: crypto.randomUUID(), queuedAt: new Date().toISOString(), state: "waiting", ...entry};
  save([...read(), kept]);
  return kept;
}

/** Forget an entry (sent, or dismissed after a conflict). */
export function remove(id) {
  save(read().filter((entry) => entry.id !== id));
}

/** Mark an entry as refused on replay (412 or 409): kept and shown, never sent again by itself. */
export function refuse(id, detail) {
  save(read().map((entry) => (entry.id === id ? {...entry, state: "conflict", detail} : entry)));
}

/** Call `listener` whenever the outbox changes (in this tab, or in another tab of this origin). */
export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

window.addEventListener("storage", (event) => {
  if (event.key === STORE) listeners.forEach((listener) => listener());
});

// The page's only way to the JSON API: tokens, refresh with rotation, conditional GETs, problem answers.
//
// Where the tokens live (SECURITY.md, "The web page"): the access token only in this module's memory, the
// refresh token in sessionStorage (this tab only, gone when the tab closes) so that a reload does not log out.
// Writes that cannot be sent now wait in the outbox (outbox.js) and are sent exactly once by flush().
import * as outbox from "./outbox.js";

const REFRESH_KEY = "printshop.refresh";

let accessToken = null;
let currentUser = null;
let lastUserId = null;           // whose taps the outbox keeps when a session ends under a write
let refreshing = null;            // one refresh at a time: a spent refresh token presented twice ends the session
const validators = new Map();     // path -> {etag, body}: the last 200 of a conditional GET

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = 0;
  }
}

export class SessionEnded extends Error {}

/** The action needs a fresh login: the API refuses a refreshed token for it; ask for the password again. */
export class FreshLoginNeeded extends Error {}

const FRESH = /fresh login/i;  // the API's 401 detail for a refreshed token on an action that needs a password login

async function needsFreshLogin(response) {
  if (response.status !== 401) return false;
  const problem = await response.clone().json().catch(() => null);
  return Boolean(problem && FRESH.test(problem.detail || ""));
}

export function user() {
  return currentUser;
}

export function loggedIn() {
  return accessToken !== null || sessionStorage.getItem(REFRESH_KEY) !== null;
}

function keep(tokens) {
  accessToken = tokens.access_token;
  sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
}

/** Forget the tokens, the user and every cached answer (logout, an ended session). */
export function forget() {
  accessToken = null;
  currentUser = null;
  validators.clear();
  sessionStorage.removeItem(REFRESH_KEY);
}

async function problemOf(response) {
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await response.json().catch(() => null) : null;
  const error = new ApiError(response.status, body);
  error.retryAfter = Number(response.headers.get("Retry-After")) || 0;
  return error;
}

async function send(method, path, {body, headers = {}, token = accessToken} = {}) {
  const init = {method, headers: {Accept: "application/json", ...headers}, cache: "no-store"};
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  try {
    return await fetch(path, init);
  } catch (cause) {
    const error = new ApiError(0, {detail: "The server cannot be reached."});
    error.cause = cause;
    throw error;
  }
}

/** Log in with a password; keep the session's tokens and return the user. */
export async function login(username, password) {
  const response = await send("POST", "/api/auth/login", {body: {username, password}, token: null});
  if (!response.ok) throw await problemOf(response);
  const answer = await response.json();
  keep(answer);
  currentUser = answer.user;
  lastUserId = currentUser.id;
  return currentUser;
}

async function refresh() {
  const token = sessionStorage.getItem(REFRESH_KEY);
  if (!token) throw new SessionEnded("Not logged in.");
  const response = await send("POST", "/api/auth/refresh", {token});
  if (response.status === 401 || response.status === 422) {
    forget();
    throw new SessionEnded("Your session has ended. Log in again.");
  }
  if (!response.ok) throw await problemOf(response);  // 503: the session may still be good, keep the token
  keep(await response.json());
}

function refreshOnce() {
  refreshing = refreshing || refresh().finally(() => { refreshing = null; });
  return refreshing;
}

const FRESH_REASON = "Changing who can use the shop needs your password again: your last login was a while ago.";

/** Send a request with the access token, refreshing it once when it has expired; return the Response. */
export async function request(method, path, options = {}) {
  if (accessToken === null) await refreshOnce();
  let response = await send(method, path, options);
  if (await needsFreshLogin(response)) throw new FreshLoginNeeded(FRESH_REASON);
  if (response.status === 401) {
    await refreshOnce();
    response = await send(method, path, options);
    if (await needsFreshLogin(response)) throw new FreshLoginNeeded(FRESH_REASON);
    if (response.status === 401) {
      forget();
      throw new SessionEnded("Your session has ended. Log in again.");
    }
  }
  return response;
}

/** GET `path` and return its JSON; throw ApiError or SessionEnded. */
export async function get(path) {
  const response = await request("GET", path);
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

/**
 * GET `path` with If-None-Match from the last answer; return {body, changed}. A 304 costs the server a
 * cache lookup and no body: that is what keeps an idle open dashboard cheap.
 */
export async function getFresh(path) {
  const known = validators.get(path);
  const headers = known ? {"If-None-Match": known.etag} : {};
  const response = await request("GET", path, {headers});
  if (response.status === 304 && known) return {body: known.body, changed: false};
  if (!response.ok) throw await problemOf(response);
  const body = await response.json();
  const etag = response.headers.get("ETag");
  if (etag) validators.set(path, {etag, body});
  return {body, changed: true};
}

/** GET one item and return {body, etag} (the ETag to send back as If-Match). */
export async function getItem(path) {
  const response = await request("GET", path);
  if (!response.ok) throw await problemOf(response);
  return {body: await response.json(), etag: response.headers.get("ETag")};
}

/** A write the page could not send now: it waits in the outbox (outbox.js) and is sent when it can be. */
export class Queued extends Error {
  constructor(entry) {
    super(`${entry.label || "Your change"} is waiting to be sent.`);
    this.entry = entry;
  }
}

function down(status) {
  return status === 0 || status === 502 || status === 503 || status === 504;
}

function writeHeaders(ifMatch, extraHeaders) {
  return ifMatch ? {"If-Match": ifMatch, ...extraHeaders} : {...extraHeaders};
}

/**
 * Send a write (POST, PATCH, DELETE) with an optional If-Match and other headers (an Idempotency-Key for a
 * creating POST); return the JSON answer or null. With `keep` ({label, stepId, expect}) a write that cannot
 * reach the server or its database, or whose session ended, is kept in the outbox with its headers: Queued is
 * thrown (SessionEnded after keeping it, so that a new login sends it).
 */
export async function write(method, path, body, etag, extraHeaders = {}, keep = null) {
  const userId = currentUser ? currentUser.id : lastUserId;
  const kept = () => outbox.add({userId, method, path, body, ifMatch: etag || null, headers: extraHeaders, ...keep});
  let response;
  try {
    response = await request(method, path, {body, headers: writeHeaders(etag, extraHeaders)});
  } catch (error) {
    if (!keep || userId === undefined || userId === null) throw error;
    if (error instanceof SessionEnded) {
      kept();
      throw error;
    }
    if (error instanceof ApiError && down(error.status)) throw new Queued(kept());
    throw error;
  }
  if (keep && down(response.status)) throw new Queued(kept());
  if (!response.ok) throw await problemOf(response);
  return response.status === 204 ? null : response.json();
}

/** Log in again as the current user (a fresh login, for actions that need one); keep the new session. */
export async function logInAgain(password) {
  const previous = accessToken;
  const user = await login(currentUser.username, password);
  // The new login is a session of its own: end the one it replaces rather than leave it alive unused.
  if (previous) send("POST", "/api/auth/logout", {token: previous}).catch(() => {});
  return user;
}

function matches(item, fields) {
  return Boolean(item) && Object.entries(fields || {}).every(([name, value]) => !(name in item) || item[name] === value);
}

/** Whether the item at `path` already is as `entry` wanted it (an earlier try landed, its answer was lost). */
async function landed(entry) {
  if (entry.method !== "PATCH") return false;
  return matches(await get(entry.path).catch(() => null), entry.body);
}

/** Send one waiting entry; return "sent" or "refused" (kept, shown, never sent again); throw while down. */
async function replay(entry) {
  let ifMatch = entry.ifMatch;
  if (entry.expect) {  // no ETag at hand when tapped: the item must still be as it was shown
    const {body, etag} = await getItem(entry.path);
    if (matches(body, entry.body)) return "sent";
    if (!matches(body, entry.expect)) return "refused";
    ifMatch = etag;
  }
  const response = await request(entry.method, entry.path, {body: entry.body,
                                                            headers: writeHeaders(ifMatch, entry.headers || {})});
  if (down(response.status)) throw await problemOf(response);
  if (response.ok) return "sent";
  if ((response.status === 412 || response.status === 409) && await landed(entry)) return "sent";
  entry.detail = response.status === 412 || response.status === 409 ? "Someone else changed it meanwhile."
    : (await problemOf(response)).message;
  return "refused";
}

async function sendWaiting() {
  const userId = currentUser && currentUser.id;
  let sent = 0;
  for (const entry of outbox.entries(userId)) {  // read again inside the lock: another tab may have sent some
    if (userId === undefined || userId === null || entry.state !== "waiting") continue;
    const outcome = await replay(entry);
    if (outcome === "sent") {
      outbox.remove(entry.id);
      sent += 1;
    } else {
      outbox.refuse(entry.id, entry.detail || "Someone else changed it meanwhile.");
    }
  }
  return sent;
}

let flushing = null;

/**
 * Send the user's waiting writes, oldest first, one tab at a time (Web Locks), each exactly once; return how
 * many were sent. Throws ApiError while the server or database is down, SessionEnded when the session ended.
 */
export function flush() {
  const run = () => sendWaiting();
  flushing = flushing || (navigator.locks ? navigator.locks.request("printshop-outbox", run) : run())
    .finally(() => { flushing = null; });
  return flushing;
}

/**
 * POST a new resource with an `Idempotency-Key` (made once per form submission attempt and kept until it
 * succeeds): a retry or a double click with the same key gets the first answer again, never a second one.
 */
export async function create(path, body, idempotencyKey) {
  const response = await request("POST", path, {body, headers: {"Idempotency-Key": idempotencyKey}});
  if (!response.ok) throw await problemOf(response);
  return response.json();
}

/** GET `path` as `accept` (e.g. text/csv) with the bearer token; return the answer as a Blob. */
export async function download(path, accept) {
  const response = await request("GET", path, {headers: {Accept: accept}});
  if (!response.ok) throw await problemOf(response);
  return response.blob();
}

/** Find out who the refresh token belongs to (after a reload: the access token was only in memory). */
export async function whoAmI() {
  currentUser = await get("/api/auth/me");
  lastUserId = currentUser.id;
  return currentUser;
}

// A logout the server could not be told of (the primary down, the network gone): the page forgets the session
// at once, and keeps only its refresh token, under this key, for the one thing it is still good for: telling
// the server later. localStorage, so that a tab closed meanwhile still tells it on the next visit.
const PENDING_LOGOUT_KEY = "printshop.pending-logout";

async function tellServer(refreshToken) {
  // The refresh token ends its own session (POST /api/auth/logout/refresh): no access token is needed.
  let response;
  try {
    response = await send("POST", "/api/auth/logout/refresh", {token: refreshToken});
  } catch (error) {
    return false;  // unreachable
  }
  // 200: ended now; 401/422: ended before (or not a session any more). 503 and other 5xx: not told.
  return response.status < 500;
}

/**
 * End the session on the server (its tokens are refused from now on) and forget it here whatever happens.
 * Return whether the server was told; when not, the refresh token waits aside for retryLogout().
 */
export async function logout() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  forget();
  lastUserId = null;  // a logout is on purpose: nothing more is kept for this user's session
  // Whatever a view kept in this tab goes too (a new job's unanswered submit: after an ended session it waits
  // for the same user's next login; after a logout nobody should find it).
  for (const name of Object.keys(sessionStorage)) if (name.startsWith("printshop.")) sessionStorage.removeItem(name);
  if (!refreshToken) return true;
  if (await tellServer(refreshToken)) return true;
  localStorage.setItem(PENDING_LOGOUT_KEY, refreshToken);
  return false;
}

/** Tell whether a logout still waits to reach the server. */
export function logoutPending() {
  return localStorage.getItem(PENDING_LOGOUT_KEY) !== null;
}

/** Send a logout that could not reach the server before; return whether none waits any more. */
export async function retryLogout() {
  const refreshToken = localStorage.getItem(PENDING_LOGOUT_KEY);
  if (refreshToken === null) return true;
  if (!(await tellServer(refreshToken))) return false;
  if (localStorage.getItem(PENDING_LOGOUT_KEY) === refreshToken) localStorage.removeItem(PENDING_LOGOUT_KEY);
  return true;
}

// The floor's devices (a wall board, a machine's tablet) send their own token, never a user's: it reads only
// what its kind needs (SECURITY.md, "Devices on the floor").

/** Take a device token from the address's fragment (`#device=<token>`), keep it under `key` in localStorage,
 * take it out of the address bar; return the token kept (from before, when the fragment has none). */
export function adoptDeviceToken(key) {
  const found = /(?:^#|&)device=([A-Za-z0-9_-]{20,100})(?:&|$)/.exec(location.hash);
  if (found) {
    localStorage.setItem(key, found[1]);
    history.replaceState(null, "", location.pathname);
  }
  return localStorage.getItem(key);
}

/** GET `path` with a device's token and If-None-Match from its last answer; return {body, changed}. */
export async function deviceGet(path, deviceToken) {
  const known = validators.get(`device:${path}`);
  const headers = known ? {"If-None-Match": known.etag} : {};
  const response = await send("GET", path, {headers, token: deviceToken});
  if (response.status === 304 && known) return {body: known.body, changed: false};
  if (!response.ok) throw await problemOf(response);
  const body = await response.json();
  const etag = response.headers.get("ETag");
  if (etag) validators.set(`device:${path}`, {etag, body});
  return {body, changed: true};
}

/** Sign a user in on a tablet with their PIN (the tablet's token as the bearer); keep the session like a login. */
export async function pinLogin(deviceToken, username, pin) {
  const response = await send("POST", "/api/auth/pin", {body: {username, pin}, token: deviceToken});
  if (!response.ok) throw await problemOf(response);
  const answer = await response.json();
  keep(answer);
  currentUser = answer.user;
  lastUserId = currentUser.id;
  return answer;
}

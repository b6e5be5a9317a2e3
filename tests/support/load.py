"""Concurrent client load against a real server: a mix of reads and writes, every answer recorded.

The writes are customer creations with unique emails, so afterwards every acknowledged one (201) can be
looked up in the database: an acknowledged write that is missing is a lost write.
"""
import itertools
import random
import threading
import time
from dataclasses import dataclass

import psycopg2

# (share, role, method, path): what one request of the mix is.
DEFAULT_MIX = (
    (3, "manager", "POST", "/api/customers"),
    (2, "viewer", "GET", "/api/customers?per_page=5&q={tag}"),
    (2, "operator1", "GET", "/api/auth/me"),
    (2, "viewer", "GET", "/api/dashboard/stats"),
    (1, "viewer", "GET", "/api/health/db/test"),
)


@dataclass
class Outcome:
    """One request: when it was sent and answered (time.monotonic()), what, and its status or error."""

    started: float
    ended: float
    method: str
    path: str
    status: object  # an int, or the name of the exception when no HTTP answer came
    content_type: str = ""
    retry_after: str = ""

    @property
    def ok(self):
        return isinstance(self.status, int) and 200 <= self.status < 300


class Load:
    """`clients` threads sending `mix` requests to `server` (a GunicornServer) until stop()."""

    def __init__(self, server, headers_by_user, clients=8, mix=DEFAULT_MIX, tag="load", pause=0.0):
        self.server, self.headers_by_user, self.clients = server, headers_by_user, clients
        self.mix, self.tag, self.pause = mix, tag, pause
        self.outcomes, self.acknowledged, self.sent_emails = [], [], []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._numbers = itertools.count(1)

    def start(self):
        for index in range(self.clients):
            thread = threading.Thread(target=self._run, args=(index,), name=f"{self.tag}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout=60):
        """Stop sending; wait for the requests in flight; return self."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        assert not any(thread.is_alive() for thread in self._threads), "a client thread hangs"
        return self

    def _pick(self, rng):
        weights = [share for share, *_ in self.mix]
        return rng.choices(self.mix, weights)[0][1:]

    def _run(self, index):
        rng = random.Random(index)
        while not self._stop.is_set():
            user, method, path = self._pick(rng)
            body = None
            if method == "POST" and path == "/api/customers":
                email = f"{self.tag}-{next(self._numbers)}@example.com"
                body = {"name": f"Load customer {email}", "email": email}
                with self._lock:
                    self.sent_emails.append(email)
            started, reply_headers = time.monotonic(), {}
            try:
                status, reply_headers, _ = self.server.request(method, path.format(tag=self.tag), body=body,
                                                               headers=self.headers_by_user[user], timeout=30)
            except OSError as exc:
                status = type(getattr(exc, "reason", exc)).__name__
            outcome = Outcome(started, time.monotonic(), method, path, status,
                              reply_headers.get("Content-Type", ""), reply_headers.get("Retry-After", ""))
            with self._lock:
                self.outcomes.append(outcome)
                if body is not None and status == 201:
                    self.acknowledged.append(body["email"])
            if self.pause:
                time.sleep(self.pause)

    def wait_for_successes(self, count, timeout, since=0.0):
        """Wait until the last `count` answers to requests sent after `since` were all 2xx; tell whether they were."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                recent = [outcome for outcome in self.outcomes[-4 * count:] if outcome.started >= since]
            tail = sorted(recent, key=lambda outcome: outcome.ended)[-count:]
            if len(tail) == count and all(outcome.ok for outcome in tail):
                return True
            time.sleep(0.05)
        return False

    def unclean_failures(self):
        """Return the failed outcomes that are not a 503 problem+json with Retry-After."""
        return [o for o in self.outcomes if not o.ok and not (
            o.status == 503 and o.content_type == "application/problem+json" and o.retry_after)]

    def statuses(self):
        """Return {status: count} over every answer."""
        counts = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    def report(self, fault_started, back_at):
        """Measure the outcomes around a fault from `fault_started` to `back_at` (when the database was back).

        failing_window_s: from the first failed request sent to the last one answered; slowest_answer_s:
        the longest any request waited for its answer (requests wait up to DB_POOL_TIMEOUT for the database
        to come back before they fail); recovered_after_s:
        from `back_at` to the answer of the last failed request (0 when none failed after it);
        first_success_after_s: from `back_at` to the first success of a request sent after it.
        """
        failed = [o for o in self.outcomes if not o.ok]
        after_fault = [o for o in self.outcomes if o.started >= back_at and o.ok]
        last_failure = max((o.ended for o in failed), default=back_at)
        first_success = min((o.ended for o in after_fault), default=float("nan"))
        failing_s = max((o.ended for o in failed), default=0.0) - min((o.started for o in failed), default=0.0)
        return {
            "sent": len(self.outcomes),
            "failed": len(failed),
            "failing_window_s": round(failing_s, 2),
            "slowest_answer_s": round(max((o.ended - o.started for o in self.outcomes), default=0.0), 2),
            "failed_by_status": {str(k): v for k, v in self.statuses().items() if not (isinstance(k, int) and k < 300)},
            "writes_acknowledged": len(self.acknowledged),
            "fault_s": round(back_at - fault_started, 2),
            "recovered_after_s": round(max(0.0, last_failure - back_at), 2),
            "first_success_after_s": round(first_success - back_at, 2),
        }


def missing_writes(url, emails):
    """Return the acknowledged customer emails that the database at `url` does not hold."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT email FROM customers WHERE email = ANY(%(emails)s)", {"emails": list(emails)})
            found = {row[0] for row in cur.fetchall()}
    finally:
        conn.close()
    return sorted(set(emails) - found)


def print_report(title, report):
    """Print a measured outcome so that it shows with `pytest -s`."""
    parts = ", ".join(f"{key}={value}" for key, value in report.items())
    print(f"\n[measured] {title}: {parts}", flush=True)

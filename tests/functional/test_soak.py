"""Soak: a bounded mixed read/write load through a real gunicorn, then the service must be as it started.

SOAK_SECONDS of load (default 60; set it higher for a longer run, e.g. SOAK_SECONDS=1800) after a 5 s
warm-up: readers over 40 users and many distinct dashboard parameters (far more cache keys than
CACHE_MAX_ENTRIES, so the LRU bound is reached and must hold), writers creating and changing customers,
jobs and steps. Checked: no error answer at all, each worker's memory flat (mean RSS of the last third of
the samples at most 30 MB above the first third; workers are not recycled during the run, so growth shows),
each cache within its bound, every pool idle with no leak and no refused request, and the dashboard
counters without drift (`flask --app apps.api dashboard verify`).
"""
import itertools
import os
import random
import statistics
import threading
import time

import psutil
import pytest

from tests.support.auth import AuthActions
from tests.support.checks import each_worker_cache_stats, each_worker_db_health, pool_idle
from tests.support.factories import add_customer
from tests.support.gunicorn import GunicornServer
from tests.support.load import print_report

pytestmark = [pytest.mark.slow, pytest.mark.multiprocess]

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "60"))
WARM_UP_SECONDS = 5.0
MAX_RSS_GROWTH_MB = 30
CACHE_MAX_ENTRIES = 25
READERS, WRITERS = 6, 2
JOB_WRITE_EVERY_SECONDS = 4.0
ENV = {"CACHE_MAX_ENTRIES": str(CACHE_MAX_ENTRIES), "GUNICORN_MAX_REQUESTS": "0", "DB_POOL_MIN_CONNECTIONS": "2",
       "DB_POOL_MAX_CONNECTIONS": "4"}


def _read_request(rng, users):
    """Return (user, path) of one read of the mix."""
    path = rng.choice((
        "/api/dashboard/stats",
        f"/api/dashboard/recent-jobs?limit={rng.randint(1, 100)}",
        f"/api/dashboard/chart/jobs-by-month?months={rng.randint(1, 120)}",
        "/api/dashboard/chart/jobs-by-status",
        f"/api/customers?q=soak&per_page=10&page={rng.randint(1, 3)}",
        "/api/jobs?status=active&per_page=10",
        "/api/notifications?per_page=5",
        "/api/auth/me",
    ))
    return rng.choice(users), path


class Soak:
    """The load: readers and writers until stopped, every answer's status and latency counted."""

    def __init__(self, server, tokens, customer, process, operators):
        self.server, self.tokens, self.customer, self.process, self.operators = \
            server, tokens, customer, process, operators
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers, self.errors, self.latencies = 0, [], []
        self.numbers = itertools.count(1)

    def call(self, user, method, path, body=None, expected=(200,)):
        started = time.monotonic()
        try:
            status, _, reply = self.server.request(method, path, body=body, headers=self.tokens[user], timeout=30)
        except OSError as exc:
            status, reply = type(exc).__name__, None
        with self.lock:
            self.answers += 1
            self.latencies.append(time.monotonic() - started)
            if status not in expected:
                self.errors.append((method, path, status, reply))
        return reply if status in expected else None

    def read(self, seed):
        rng, users = random.Random(seed), list(self.tokens)
        while not self.stop.is_set():
            user, path = _read_request(rng, users)
            self.call(user, "GET", path)

    def write(self, seed):
        rng, next_job_at = random.Random(seed), 0.0
        while not self.stop.is_set():
            n = next(self.numbers)
            customer = self.call("manager", "POST", "/api/customers", {
                "name": f"Soak customer {n}", "email": f"soak-{n}@example.com"}, expected=(201,))
            if customer:
                self.call("manager", "PATCH", f"/api/customers/{customer['id']}", {"phone": str(n)})
            if time.monotonic() < next_job_at:
                continue
            # Job and step writes drop dashboard entries in every worker: spaced out, so that between
            # them the readers fill the cache past its bound.
            next_job_at = time.monotonic() + JOB_WRITE_EVERY_SECONDS
            steps = [{"process_id": self.process, "assigned_to": rng.choice(self.operators)} for _ in range(3)]
            job = self.call("manager", "POST", "/api/jobs", {
                "customer_id": self.customer, "title": f"Soak job {n}", "status": "active", "steps": steps},
                expected=(201,))
            if job:
                step = job["steps"][0]["id"]
                self.call("manager", "PATCH", f"/api/steps/{step}", {"status": "in_progress"})
                self.call("manager", "PATCH", f"/api/steps/{step}", {"status": "completed"})
                if rng.random() < 0.3:
                    self.call("manager", "DELETE", f"/api/jobs/{job['id']}", expected=(204,))


def _sample_rss(pids, samples, stop):
    processes = {pid: psutil.Process(pid) for pid in pids}
    while not stop.wait(1.0):
        samples.append({pid: process.memory_info().rss for pid, process in processes.items()})


def test_soak(database_url, db, app, runner):
    with db.cursor() as cur:
        cur.execute("INSERT INTO users (username, role, password_hash) SELECT 'soak_' || n, "
                    "(ARRAY['viewer', 'operator', 'manager', 'admin'])[1 + n % 4], password_hash "
                    "FROM users, generate_series(1, 32) AS n WHERE username = 'admin'")
        cur.execute("SELECT id FROM processes WHERE code = 'print'")
        process = cur.fetchone()[0]
    auth = AuthActions(app, database_url)
    tokens = {name: auth.headers(name) for name in auth.users}
    operators = [auth.user_id(f"operator{n}") for n in range(1, 6)]
    with GunicornServer(database_url, workers=2, threads=4, env=ENV) as server:
        workers = server.worker_pids()
        soak = Soak(server, tokens, add_customer(db, "Soak Signs"), process, operators)
        threads = [threading.Thread(target=soak.read, args=(n,)) for n in range(READERS)]
        threads += [threading.Thread(target=soak.write, args=(100 + n,)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        samples, sampling = [], threading.Event()
        try:
            time.sleep(WARM_UP_SECONDS)
            sampler = threading.Thread(target=_sample_rss, args=(workers, samples, sampling))
            sampler.start()
            time.sleep(SOAK_SECONDS)
        finally:
            soak.stop.set()
            sampling.set()
            for thread in threads:
                thread.join(60)
        sampler.join(10)
        assert server.worker_pids() == workers, "a worker was replaced during the soak"
        health = each_worker_db_health(server, tokens["admin"], until=pool_idle)
        caches = each_worker_cache_stats(server, tokens["admin"])

    third = max(1, len(samples) // 3)
    rss_mb = {pid: (statistics.mean(s[pid] for s in samples[:third]) / 2**20,
                    statistics.mean(s[pid] for s in samples[-third:]) / 2**20) for pid in workers}
    growth_mb = {pid: last - first for pid, (first, last) in rss_mb.items()}
    latencies = sorted(soak.latencies)
    print_report(f"soak {SOAK_SECONDS:.0f} s after a {WARM_UP_SECONDS:.0f} s warm-up", {
        "answers": soak.answers, "per_second": round(soak.answers / (SOAK_SECONDS + WARM_UP_SECONDS)),
        "errors": len(soak.errors), "p50_ms": round(latencies[len(latencies) // 2] * 1000),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000),
        "rss_mb_first_last_third": [(round(first, 1), round(last, 1)) for first, last in rss_mb.values()],
        "cache_entries_evictions": [(cache["total_entries"], cache["evictions"]) for cache in caches.values()]})
    assert soak.errors == [], soak.errors[:5]
    assert soak.answers > 20 * SOAK_SECONDS, "the load really ran"
    assert len(samples) >= 10 and all(growth < MAX_RSS_GROWTH_MB for growth in growth_mb.values()), growth_mb
    assert all(cache["total_entries"] <= CACHE_MAX_ENTRIES for cache in caches.values()), caches
    assert sum(cache["evictions"] for cache in caches.values()) > 0, "the cache bound was never reached"
    for body in health.values():
        stats = body["pool_stats"]
        assert stats["leaks_detected"] == 0 and stats["requests_errors"] == 0, stats
    verify = runner.invoke(args=["dashboard", "verify"])
    assert verify.exit_code == 0 and "no drift" in verify.output, verify.output

"""Pairs measured over HTTP against the real service under gunicorn, driven by wrk."""
import secrets
import statistics
import threading
import time
from contextlib import contextmanager

import psycopg2

from bench.cpu import alternating
from bench.harness import ratio, say
from tests.support.gunicorn import GunicornServer

SECRET = secrets.token_urlsafe(48)  # per run: no secret written in the repository signs tokens
COLD_BURST_ROUTE = "/api/dashboard/chart/jobs-by-month"


@contextmanager
def serve(url, workers=2, worker_class="gthread", threads=4, **env):
    """Run the service under gunicorn against `url` with extra settings; yield the server."""
    settings = {"JWT_SECRET_KEY": SECRET, "GUNICORN_WORKER_CLASS": worker_class, "RATE_LIMITS_ENABLED": "false",
                "DB_POOL_MAX_CONNECTIONS": str(max(threads, 4)), "CACHE_TTL_STATS": "300"}
    settings.update({key: str(value) for key, value in env.items()})
    server = GunicornServer(url, workers=workers, threads=threads, env=settings).start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


def token(server, username="operator1", password="demo"):
    """Log in and return an Authorization header."""
    status, _, body = server.request("POST", "/api/auth/login", {"username": username, "password": password})
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return {"Authorization": f"Bearer {body['access_token']}"}


def _summary(runs, key="rps"):
    values = [run[key] for run in runs]
    return statistics.median(values), min(values), max(values)


def _row(pair, what, naive, optimised, unit, goal="", note=""):
    return {"pair": pair, "what": what, "naive": naive, "optimised": optimised, "unit": unit,
            "ratio": ratio(optimised[0], naive[0]) if unit == "req/s" else ratio(naive[0], optimised[0]),
            "goal": goal, "note": note}


def _round_ratios(samples, numerator, denominator, key):
    return [top[key] / bottom[key] for top, bottom in zip(samples[numerator], samples[denominator])]


def _cpu_note(samples, slow, fast):
    ratios = _round_ratios(samples, slow, fast, "cpu_us")
    return (f"server CPU/request {statistics.median(r['cpu_us'] for r in samples[slow]):,.0f} vs "
            f"{statistics.median(r['cpu_us'] for r in samples[fast]):,.0f} µs "
            f"(ratio per round {min(ratios):.2f}-{max(ratios):.2f})")


def pool_vs_connect(url, seconds, repeats):
    """The same uncached read (GET /api/customers/1) with connect-per-request vs the pool, alternating."""
    with serve(url, DB_POOL_MODE="none") as naive, serve(url) as pooled:
        headers = token(pooled, "manager")
        targets = {name: (server.base_url + "/api/customers/1", server.process.pid)
                   for name, server in (("none", naive), ("pool", pooled))}
        samples = alternating(targets, headers, seconds, max(repeats, 2))
    return _row("connect per request vs pool (HTTP)", "GET /api/customers/1, 2 workers x 4 threads",
                _summary(samples["none"]), _summary(samples["pool"]), "req/s",
                note=_cpu_note(samples, "none", "pool"))


def worker_models(url, seconds, repeats):
    """Cached vs uncached /api/dashboard/stats under sync and gthread workers, each pair alternating."""
    rows = []
    for worker_class, threads in (("sync", 1), ("gthread", 4)):
        with serve(url, worker_class=worker_class, threads=threads, CACHE_ENABLED="false") as uncached, \
                serve(url, worker_class=worker_class, threads=threads) as cached:
            headers = token(cached)
            targets = {name: (server.base_url + "/api/dashboard/stats", server.process.pid)
                       for name, server in (("false", uncached), ("true", cached))}
            samples = alternating(targets, headers, seconds, max(repeats, 2))
        p99 = {name: statistics.median(r.get("p99_ms", 0) for r in runs) for name, runs in samples.items()}
        rows.append(_row(f"uncached vs cached stats, {worker_class}", f"2 {worker_class} workers x {threads} threads",
                         _summary(samples["false"]), _summary(samples["true"]), "req/s",
                         note=f"p99 uncached {p99['false']:.1f} ms, cached {p99['true']:.1f} ms; "
                              + _cpu_note(samples, "false", "true")))
    return rows


def _statement_calls(url, fragment):
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s",
                        (f"%{fragment}%",))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def _burst(server, headers, path, clients):
    """Fire `clients` requests at once on `path`; return their latencies (ms) and statuses."""
    barrier = threading.Barrier(clients)
    latencies, statuses = [], []

    def one():
        barrier.wait()
        started = time.perf_counter()
        status = server.request("GET", path, headers=headers, timeout=60)[0]
        latencies.append((time.perf_counter() - started) * 1000)
        statuses.append(status)

    threads = [threading.Thread(target=one) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def single_flight(url, rounds, clients=64, workers=2):
    """A burst of `clients` concurrent requests on a cold key, with single-flight on vs off."""
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    admin.close()
    results = {}
    for flag in ("false", "true"):
        queries, p99s = [], []
        with serve(url, workers=workers, threads=16, DB_POOL_MAX_CONNECTIONS=16,
                   CACHE_SINGLE_FLIGHT=flag) as server:
            headers = token(server)
            for round_number in range(rounds):
                path = f"{COLD_BURST_ROUTE}?months={round_number + 1}"  # a key no one asked for yet
                before = _statement_calls(url, "m (month)")
                latencies, statuses = _burst(server, headers, path, clients)
                queries.append((_statement_calls(url, "m (month)") - before) / workers)
                p99s.append(sorted(latencies)[int(len(latencies) * 0.99) - 1])
                if any(status != 200 for status in statuses):
                    say(f"burst round {round_number}: statuses {sorted(set(statuses))}")
        results[flag] = (queries, p99s)
    off_q, off_p99 = results["false"]
    on_q, on_p99 = results["true"]
    return [
        _row("cold burst: queries per key per worker", f"{clients} clients at once, single-flight off vs on",
             (statistics.median(off_q), min(off_q), max(off_q)), (statistics.median(on_q), min(on_q), max(on_q)),
             "queries", "on: 1 per worker"),
        _row("cold burst: p99 latency", f"{clients} clients at once, single-flight off vs on",
             (statistics.median(off_p99), min(off_p99), max(off_p99)),
             (statistics.median(on_p99), min(on_p99), max(on_p99)), "ms"),
    ]


@contextmanager
def _steady_writes(server, headers, per_second):
    """Create customers at a steady rate in a background thread while the block runs; yield the count."""
    stop, written = threading.Event(), [0]

    def write():
        while not stop.is_set():
            status = server.request("POST", "/api/customers", {"name": f"Bench writer {written[0]}"},
                                    headers=headers)[0]
            written[0] += status == 201
            stop.wait(1 / per_second)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join(30)


def replica_reads(url, standby_url, seconds, repeats, writes_per_second=50):
    """Uncached list reads (GET /api/jobs) under a steady write load: primary only vs one streaming replica.

    Both servers run at once, each under its own steady writes; wrk alternates between them, order rotated.
    """
    path = "/api/jobs?per_page=20&status=active"
    with serve(url) as primary, serve(url, DATABASE_REPLICA_URLS=standby_url) as replicated:
        reader, writer = token(primary, "viewer"), token(primary, "manager")
        targets = {name: (server.base_url + path, server.process.pid)
                   for name, server in (("primary", primary), ("replica", replicated))}
        with _steady_writes(primary, writer, writes_per_second / 2), \
                _steady_writes(replicated, writer, writes_per_second / 2):
            samples = alternating(targets, reader, seconds, max(repeats, 2))
    return _row("reads under writes: primary vs + replica", f"GET {path} while {writes_per_second} writes/s",
                _summary(samples["primary"]), _summary(samples["replica"]), "req/s",
                note="2 workers x 4 threads each; the replica runs on the same 2 cores; "
                     + _cpu_note(samples, "primary", "replica"))

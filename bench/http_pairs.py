"""Pairs measured over HTTP against the real service under gunicorn, driven by wrk."""
import secrets
import statistics
import threading
import time
from contextlib import contextmanager

import psycopg2

from harness import ratio, say, wrk

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


def _rps_runs(server, path, headers, seconds, repeats, connections=16):
    """Return the wrk results of `repeats` runs on `path`."""
    return [wrk(server.base_url + path, seconds=seconds, connections=connections, headers=headers)
            for _ in range(repeats)]


def _summary(runs, key="rps"):
    values = [run[key] for run in runs]
    return statistics.median(values), min(values), max(values)


def _row(pair, what, naive, optimised, unit, goal="", note=""):
    return {"pair": pair, "what": what, "naive": naive, "optimised": optimised, "unit": unit,
            "ratio": ratio(optimised[0], naive[0]) if unit == "req/s" else ratio(naive[0], optimised[0]),
            "goal": goal, "note": note}


def ceiling_vs_cached(url, seconds, repeats):
    """A JWT-protected route that touches no database vs a cached /api/dashboard/stats hit."""
    with serve(url) as server:
        headers = token(server)
        server.request("GET", "/api/dashboard/stats", headers=headers)  # warm the entry
        ceiling, cached = [], []
        for _ in range(repeats):  # alternate, so drift hits both alike
            ceiling += _rps_runs(server, "/api/auth/token", headers, seconds, 1)
            cached += _rps_runs(server, "/api/dashboard/stats", headers, seconds, 1)
    share = statistics.median(r["rps"] for r in cached) / statistics.median(r["rps"] for r in ceiling)
    row = _row("cache hit vs framework ceiling", "GET /api/auth/token (JWT, no DB) vs cached /api/dashboard/stats",
               _summary(ceiling), _summary(cached), "req/s", "cached >= 95 % of ceiling",
               f"cached = {share:.0%} of ceiling")
    row["ratio"] = f"{share:.0%}"
    return row


def pool_vs_connect(url, seconds, repeats):
    """The same uncached read (GET /api/customers/1) with connect-per-request vs the pool."""
    results = {}
    for mode in ("none", "pool"):
        with serve(url, DB_POOL_MODE=mode) as server:
            headers = token(server, "manager")
            server.request("GET", "/api/customers/1", headers=headers)
            results[mode] = _rps_runs(server, "/api/customers/1", headers, seconds, repeats)
    return _row("connect per request vs pool (HTTP)", "GET /api/customers/1, 2 workers x 4 threads",
                _summary(results["none"]), _summary(results["pool"]), "req/s")


def worker_models(url, seconds, repeats):
    """Cached vs uncached /api/dashboard/stats under sync and gthread workers."""
    rows = []
    for worker_class, threads in (("sync", 1), ("gthread", 4)):
        results = {}
        for cache in ("false", "true"):
            with serve(url, worker_class=worker_class, threads=threads, CACHE_ENABLED=cache) as server:
                headers = token(server)
                server.request("GET", "/api/dashboard/stats", headers=headers)
                results[cache] = _rps_runs(server, "/api/dashboard/stats", headers, seconds, repeats)
        rows.append(_row(f"uncached vs cached stats, {worker_class}", f"2 {worker_class} workers x {threads} threads",
                         _summary(results["false"]), _summary(results["true"]), "req/s",
                         note=f"p99 uncached {statistics.median(r.get('p99_ms', 0) for r in results['false']):.1f} ms, "
                              f"cached {statistics.median(r.get('p99_ms', 0) for r in results['true']):.1f} ms"))
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

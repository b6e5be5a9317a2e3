"""What borrowing a connection costs: this pool against a bare ThreadedConnectionPool and against
connecting per request, measured side by side in one run, the same `SELECT 1`, medians over repeats.

    .venv/bin/python -m bench.pool_overhead

Starts its own embedded PostgreSQL in a temp dir (stopped after) unless BENCH_DATABASE_URL is set.
BENCH_ITERATIONS (default 2000) and BENCH_REPEATS (default 9) tune the run; prints a markdown table.
"""
import os
import platform
import shutil
import statistics
import tempfile
import time
from datetime import date

import psycopg2
from psycopg2 import pool as pg_pool  # the baseline itself; the app reaches it only via pool.py

from apps.api.db.pool import ConnectionPool
from apps.api.tools.embedded_pg import EmbeddedPostgres

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "2000"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "9"))
CONNECT_ITERATIONS = max(20, ITERATIONS // 10)  # a connect costs milliseconds: fewer rounds suffice
# Session settings as startup options, the same for every variant (the service sends them per transaction
# instead, PgBouncer-safe: bench/transaction_settings.py measures that).
SESSION = dict(connect_timeout=5, application_name="pool-bench",
               options="-c statement_timeout=25000 -c idle_in_transaction_session_timeout=30000 -c timezone=UTC")


def per_call_us(get, put, iterations, query):
    """Return the mean microseconds of one get (+ SELECT 1 and commit when `query`) + put."""
    started = time.perf_counter()
    for _ in range(iterations):
        conn = get()
        if query:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchone()
            conn.commit()
        put(conn)
    return (time.perf_counter() - started) / iterations * 1e6


def variants(url):
    """Return (label, get, put, iterations, closer) for every way of getting a connection."""
    bare = pg_pool.ThreadedConnectionPool(1, 1, url, **SESSION)
    ours = ConnectionPool(url, min_size=1, max_size=1, leak_threshold=60, **SESSION)
    checked = ConnectionPool(url, min_size=1, max_size=1, check_idle_after=0, **SESSION)
    return [
        ("connect per request (psycopg2.connect + close)", lambda: psycopg2.connect(url, **SESSION),
         lambda conn: conn.close(), CONNECT_ITERATIONS, lambda: None),
        ("bare ThreadedConnectionPool", bare.getconn, bare.putconn, ITERATIONS, bare.closeall),
        ("this pool (apps/api/db/pool.py)", ours.getconn, ours.putconn, ITERATIONS, ours.close),
        ("this pool, checking every checkout", checked.getconn, checked.putconn, ITERATIONS, checked.close),
    ]


def measure(url):
    """Return {label: (median get+put us, median get+SELECT 1+put us)}, variants interleaved per repeat."""
    cases = variants(url)
    samples = {label: ([], []) for label, *_ in cases}
    try:
        for _label, get, put, iterations, _ in cases:  # warm up: first connects, caches
            per_call_us(get, put, max(10, iterations // 10), query=True)
        for repeat in range(REPEATS):
            order = cases[repeat % len(cases):] + cases[:repeat % len(cases)]  # no variant always goes first
            for label, get, put, iterations, _ in order:
                samples[label][0].append(per_call_us(get, put, iterations, query=False))
                samples[label][1].append(per_call_us(get, put, iterations, query=True))
    finally:
        for *_, closer in cases:
            closer()
    return {label: (statistics.median(bare), statistics.median(query)) for label, (bare, query) in samples.items()}


def server_version(url):
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            return cur.fetchone()[0]
    finally:
        conn.close()


def table(results, url):
    """Return the results as a markdown table, with what was measured where."""
    bare_get, bare_query = results["bare ThreadedConnectionPool"]
    lines = [
        f"{date.today()}, PostgreSQL {server_version(url)} on 127.0.0.1, Python {platform.python_version()}, "
        f"psycopg2 {psycopg2.__version__.split()[0]}, {os.cpu_count()} CPUs; medians of {REPEATS} repeats "
        f"of {ITERATIONS} calls ({CONNECT_ITERATIONS} for connect per request), one thread.",
        "",
        "| how a request gets its connection | get + put (µs) | get + `SELECT 1` + commit + put (µs) "
        "| get + put vs bare pool |",
        "|---|---:|---:|---:|",
    ]
    for label, (get_put, with_query) in results.items():
        lines.append(f"| {label} | {get_put:,.1f} | {with_query:,.1f} | {get_put - bare_get:+,.1f} µs |")
    return "\n".join(lines)


def main():
    url = os.environ.get("BENCH_DATABASE_URL")
    server = data_dir = None
    if not url:
        data_dir = tempfile.mkdtemp(prefix="pool-bench-")
        server = EmbeddedPostgres(os.path.join(data_dir, "pg"), fast=True).start()
        url = server.url("postgres")
    try:
        print(table(measure(url), url))
    finally:
        if server is not None:
            server.remove()
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Shared parts of the benchmark: a database, a seeded data set, a gunicorn, wrk, timing."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from psycopg2 import sql

from apps.api.db import migrate
from apps.api.tools.embedded_pg import EmbeddedPostgres
from apps.api.tools.seed import seed

ROOT = Path(__file__).resolve().parents[1]


def say(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextmanager
def database_server():
    """Yield a function dbname -> URL: BENCH_DATABASE_URL's server, or an embedded one.

    With BENCH_DATA_DIR the embedded server keeps its data there, so seeded data sets are reused by
    the next run (a 1M-job set takes minutes to build); otherwise it lives in a temp dir.
    """
    given = os.environ.get("BENCH_DATABASE_URL")
    if given:
        head = given.rsplit("/", 1)[0]
        yield lambda dbname: f"{head}/{dbname}"
        return
    kept = os.environ.get("BENCH_DATA_DIR")
    if kept:
        server = EmbeddedPostgres(Path(kept) / "data").start()
        try:
            yield server.url
        finally:
            server.stop(mode="fast")
        return
    work = Path(tempfile.mkdtemp(prefix="printshop-bench-"))
    server = EmbeddedPostgres(work / "data").start()
    try:
        yield server.url
    finally:
        server.remove()
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def standby_of(server_url, dbname):
    """Yield the URL of `dbname` on a streaming hot standby of the embedded server (its own pg_basebackup),
    or None when the server is not one this run started (BENCH_DATABASE_URL)."""
    server = getattr(server_url, "__self__", None)  # database_server() yields the embedded server's bound url
    if not isinstance(server, EmbeddedPostgres):
        yield None
        return
    standby = server.make_standby(server.requested_dir.parent / "standby").start()
    try:
        yield standby.url(dbname)
    finally:
        standby.remove()


def create_database(server_url, name):
    """Create database `name` afresh on the server of `server_url` and return its URL."""
    admin = psycopg2.connect(server_url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    return server_url(name)


def _seeded_as(server_url, name):
    """Return the seed label stored on database `name` (its comment), or None when it has none."""
    admin = psycopg2.connect(server_url("postgres"))
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                        (name,))
            row = cur.fetchone()
    finally:
        admin.close()
    return row[0] if row else None


def seeded_database(server_url, name, jobs, customers=None, seed_value=1):
    """Create, migrate and seed database `name`; return (url, seconds the seed took).

    A database already seeded with the same sizes (BENCH_DATA_DIR) is only migrated and reused (0 s).
    """
    customers = customers if customers is not None else max(100, jobs // 10)
    label = f"bench seed: {jobs} jobs, {customers} customers, seed {seed_value}"
    if _seeded_as(server_url, name) == label:
        url = server_url(name)
        migrate.upgrade(url, log=lambda line: None)
        _vacuum(url)
        say(f"reusing {name}: {jobs:,} jobs, {customers:,} customers")
        return url, 0.0
    url = create_database(server_url, name)
    migrate.upgrade(url, log=lambda line: None)
    say(f"seeding {name}: {jobs:,} jobs, {customers:,} customers")
    took = seed(url, jobs=jobs, customers=customers, seed_value=seed_value, progress=lambda line: None)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(label)))
    conn.close()
    _vacuum(url)
    return url, took


def _vacuum(url):
    """VACUUM (ANALYZE) the database, as autovacuum would have done by now on a live one.

    A freshly seeded table has no visibility map yet, so every index-only scan (the overdue list, deep
    offsets) would still read the table; on a reused one it is quick.
    """
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (ANALYZE)")
    finally:
        conn.close()


def timed(function, repeat, warmup=1):
    """Run `function` warmup + repeat times; return (median, min, max) milliseconds of the timed runs."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def query_timer(conn, statement, params=None):
    """Return a function that runs `statement` on `conn` and fetches every row."""
    def run():
        with conn.cursor() as cur:
            cur.execute(statement, params)
            cur.fetchall()
    return run


def ensure_wrk():
    """Return the wrk binary, installing it with apt-get when missing (said on stderr)."""
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing: installing it with apt-get (Debian package 'wrk')")
    for command in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "wrk"]):
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
        found = shutil.which("wrk")
        if found:
            return found
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


_LATENCY_LINE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, seconds=5, connections=16, threads=2, headers=None):
    """Drive `url` with wrk; return {"rps", "requests", "p50_ms", "p99_ms", "errors"}."""
    command = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True,
                            timeout=seconds + 60).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "errors": 0,
              "requests": int(re.search(r"(\d+) requests in", output).group(1))}
    for line in output.splitlines():
        match = _LATENCY_LINE.match(line)
        if match:
            result[f"p{match.group(1)}_ms"] = float(match.group(2)) * _UNIT_MS[match.group(3)]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["errors"] = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(n) for n in socket_errors.groups()) if socket_errors else 0)
    return result


def ms(value):
    """Format milliseconds for the table."""
    return f"{value:.3f}" if value < 1 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def ratio(slow, fast):
    """Format slow/fast as a ratio."""
    return f"{slow / fast:.1f}x" if fast > 0 else "n/a"

"""The dashboard's numbers: uncached stats at 10k and N jobs beside the naive CTE, and what the counters cost writes.

    .venv/bin/python -m bench.dashboard_numbers [--jobs 1000000] [--repeat 30] [--pairs 40]

Uses its own embedded PostgreSQL in a temp dir (or BENCH_DATABASE_URL's server), seeds with the project's
generator, and prints markdown tables of medians. Trigger cost: the same writes, each in its own transaction
(so the work done at commit counts), with the dashboard triggers enabled and disabled alternately, with
durable commits and again with synchronous_commit off (the triggers' CPU cost without the WAL flush).
"""
import argparse
import itertools
import os
import platform
import statistics
import time
from datetime import UTC, datetime

import psycopg2
from psycopg2 import sql

from apps.api.db import Queries
from bench.harness import database_server, ms, query_timer, say, seeded_database, timed

queries = Queries("dashboard.sql")
DASHBOARD_TRIGGERS = {"jobs": ("dashboard_jobs_insert", "dashboard_jobs_update", "dashboard_jobs_delete"),
                      "job_steps": ("dashboard_steps_insert", "dashboard_steps_update", "dashboard_steps_delete")}
BULK_ROWS = 10_000


def read_numbers(url, repeat, naive_repeat):
    """Return {name: median ms} of the dashboard's read queries on the database at `url`."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE username = 'operator1'")
        params = {"user_id": cur.fetchone()[0]}
    def median(statement, params=None, repeat=repeat):
        return timed(query_timer(conn, statement, params), repeat)[0]

    numbers = {
        "stats (counters, one CTE)": median(queries.get_stats, params),
        "stats (naive CTE over jobs and job_steps)": median(queries.get_stats_naive, params, naive_repeat),
        "recent jobs (limit 10)": median(queries.list_recent_jobs, {"limit": 10}),
        "jobs by status": median(queries.count_jobs_by_status),
        "jobs by month (12)": median(queries.count_jobs_by_month, {"months": 12}),
        "recount every counter (dashboard verify)": median(queries.list_counter_drift, repeat=1),
        "rebuild every counter (dashboard rebuild)": median(queries.rebuild_counters, repeat=1),
    }
    conn.close()
    return numbers


def _set_triggers(cur, enabled):
    clause = sql.SQL("ENABLE TRIGGER {}") if enabled else sql.SQL("DISABLE TRIGGER {}")
    for table, triggers in DASHBOARD_TRIGGERS.items():
        clauses = sql.SQL(", ").join(clause.format(sql.Identifier(trigger)) for trigger in triggers)
        cur.execute(sql.SQL("ALTER TABLE {} ").format(sql.Identifier(table)) + clauses)


def _samples(cur, write, pairs, per_toggle):
    """Time `write` with the triggers on and off, alternating `pairs` times; return {enabled: [ms]}."""
    samples = {True: [], False: []}
    for pair in range(pairs):
        for enabled in ((True, False) if pair % 2 == 0 else (False, True)):
            _set_triggers(cur, enabled)
            write()  # untimed: the first statement after an ALTER plans afresh
            for _ in range(per_toggle):
                started = time.perf_counter()
                write()
                samples[enabled].append((time.perf_counter() - started) * 1000)
    return samples


def write_numbers(url, pairs):
    """Return [(write, commit mode, ms without triggers, ms with triggers)], medians of alternating runs."""
    conn = psycopg2.connect(url)
    conn.autocommit = True  # one transaction per write: the counters are applied at commit
    cur = conn.cursor()
    cur.execute("SELECT min(id) FROM customers")
    customer = cur.fetchone()[0]
    cur.execute("SELECT max(id) FROM jobs")
    newest = cur.fetchone()[0]
    cur.execute("SELECT id FROM job_steps WHERE status = 'pending' AND assigned_to IS NOT NULL "
                "ORDER BY id DESC LIMIT 1")
    step = cur.fetchone()[0]
    flip = itertools.cycle([True, False])

    def insert_job():
        cur.execute("INSERT INTO jobs (customer_id, title, status, due_date) "
                    "VALUES (%s, 'Bench job', 'draft', current_date + 7)", (customer,))

    def update_job():
        cur.execute("UPDATE jobs SET status = %s WHERE id = %s", ("on_hold" if next(flip) else "active", newest))

    def update_step():
        cur.execute("UPDATE job_steps SET status = %s, started_at = now() WHERE id = %s",
                    ("in_progress" if next(flip) else "pending", step))

    def bulk_update():
        cur.execute("UPDATE jobs SET status = CASE status WHEN 'active' THEN 'on_hold' "
                    "WHEN 'on_hold' THEN 'active' ELSE status END WHERE id > %s", (newest - BULK_ROWS,))

    results = []
    try:
        # Durable commits as in production, then without waiting for the WAL flush: the CPU cost alone.
        for mode in ("on", "off"):
            cur.execute("SELECT set_config('synchronous_commit', %s, false)", (mode,))
            for name, write, runs, per_toggle in [
                    ("insert one job", insert_job, pairs, 5), ("update one job's status", update_job, pairs, 5),
                    ("update one step's status", update_step, pairs, 5),
                    (f"update {BULK_ROWS:,} jobs' status (one statement)", bulk_update, max(2, pairs // 4), 1)]:
                samples = _samples(cur, write, runs, per_toggle)
                results.append((name, mode, statistics.median(samples[False]), statistics.median(samples[True])))
    finally:
        _set_triggers(cur, True)
        cur.execute("DELETE FROM jobs WHERE title = 'Bench job'")
        cur.execute("SELECT dashboard_rebuild_counters()")  # the runs without triggers left drift
    conn.close()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs in the large data set")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per read query")
    parser.add_argument("--pairs", type=int, default=40, help="on/off alternations per single-row write")
    args = parser.parse_args()
    sizes = [10_000, args.jobs]
    reads, seeded = {}, {}
    with database_server() as server_url:
        for jobs in sizes:
            url, seeded[jobs] = seeded_database(server_url, f"bench_dashboard_{jobs}", jobs)
            say(f"measuring reads at {jobs:,} jobs")
            reads[jobs] = read_numbers(url, args.repeat, naive_repeat=max(3, args.repeat // 5))
        say(f"measuring writes at {args.jobs:,} jobs")
        writes = write_numbers(url, args.pairs)
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("SHOW server_version")
            version = cur.fetchone()[0]
    print(f"\nDashboard numbers, {datetime.now(UTC):%Y-%m-%d}, PostgreSQL {version}, "
          f"{platform.machine()} with {len(os.sched_getaffinity(0))} cores; medians in ms.\n")
    seeding = ", ".join(f"{jobs:,} jobs in {seeded[jobs]:.1f} s" for jobs in sizes)
    print(f"Seeding (with the counter rebuild): {seeding}.\n")
    print(f"| query (uncached) | {' | '.join(f'{jobs:,} jobs' for jobs in sizes)} |")
    print(f"|---|{'---:|' * len(sizes)}")
    for name in reads[sizes[0]]:
        print(f"| {name} | {' | '.join(ms(reads[jobs][name]) for jobs in sizes)} |")
    counters, naive = "stats (counters, one CTE)", "stats (naive CTE over jobs and job_steps)"
    ratios = " | ".join(f"{reads[jobs][naive] / reads[jobs][counters]:.0f}x" for jobs in sizes)
    print(f"| naive / counters | {ratios} |")
    print(f"\n| write at {args.jobs:,} jobs, each its own transaction | synchronous_commit | without triggers "
          "| with triggers | difference |")
    print("|---|---|---:|---:|---:|")
    for name, mode, without, with_triggers in writes:
        print(f"| {name} | {mode} | {ms(without)} | {ms(with_triggers)} | "
              f"{(with_triggers - without) * 1000:+,.0f} µs ({(with_triggers / without - 1) * 100:+.0f} %) |")


if __name__ == "__main__":
    main()

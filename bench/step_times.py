"""Issue 26's figures: the step-times report over a month, and the work queues' first pages, at BENCH_JOBS jobs.

    BENCH_DATA_DIR=/work/bench-data-c .venv/bin/python -m bench.step_times [jobs] [repeat]

On the seeded set (reused from BENCH_DATA_DIR, migrated first: the time migration 0110 took is printed when
it ran now), one step in five completed in the measured month is given pauses of two reasons (committed
once, so the report aggregates real paused_by_reason values), then each statement runs `repeat` times:
wall time on one connection (median, min-max) and the database's own time: for the report the CPU its
server process spends (this machine is shared: wall time there is mostly waiting for a core), for the
queues' first pages EXPLAIN ANALYZE's execution time.
The report's naive twin sums each step's work segments (step_time_segments) instead of the totals kept
on the step row. Also run by bench/run.py (make bench) as its "step times" section.
"""
import statistics
import sys
import time
from datetime import date, timedelta

import psutil
import psycopg2
from psycopg2 import sql

from apps.api.db import Queries
from apps.api.resources.queues import MOST_URGENT
from bench.harness import database_server, ms, query_timer, say, seeded_database, timed

reports_sql = Queries("reports.sql")
queues_sql = Queries("queues.sql")

NAIVE_REPORT = """
SELECT st.process_id AS key, count(*) AS steps,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY w.seconds) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY w.seconds) AS p90
FROM job_steps st
CROSS JOIN LATERAL (SELECT coalesce(sum(extract(epoch FROM s.ended_at - s.started_at)), 0) AS seconds
                    FROM step_time_segments s WHERE s.step_id = st.id AND s.kind = 'work') w
WHERE st.status = 'completed' AND st.completed_at >= %(start)s AND st.completed_at < %(stop)s
GROUP BY st.process_id
"""


def _month(cur):
    """Return (first day, first day of the next month) of the month of the last six with most completed steps."""
    cur.execute("SELECT date_trunc('month', completed_at AT TIME ZONE 'UTC')::date AS month, count(*) FROM job_steps "
                "WHERE status = 'completed' AND completed_at > (SELECT max(completed_at) FROM job_steps "
                "WHERE status = 'completed') - interval '6 months' GROUP BY 1 ORDER BY 2 DESC, 1 DESC LIMIT 1")
    row = cur.fetchone()
    first = row[0] if row else date.today().replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def _report_runner(conn, params):
    """Return a function that runs the report as the endpoint does: its own transaction, sorting in memory."""
    def run():
        with conn.cursor() as cur:
            cur.execute(reports_sql.sort_in_memory)
            cur.execute(reports_sql.step_times, params)
            cur.fetchall()
        conn.commit()
    return run


def _backend_cpu_ms(conn, function, repeat):
    """Return (median, min, max) CPU milliseconds the connection's server process spends per call of `function`
    (psutil on the backend's pid: on a loaded shared machine the CPU a statement costs holds where its wall
    time does not; clock-tick resolution, 10 ms)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cur.fetchone()[0])
    conn.commit()
    function()
    samples = []
    for _ in range(repeat):
        before = backend.cpu_times()
        function()
        after = backend.cpu_times()
        samples.append((after.user + after.system - before.user - before.system) * 1000)
    return statistics.median(samples), min(samples), max(samples)


def _add_pauses(conn, start, stop):
    """Give one completed step in five of the month pauses of two reasons (once; VACUUM after)."""
    with conn.cursor() as cur:
        cur.execute("UPDATE job_steps SET paused_by_reason = jsonb_build_object('break', 600 + id %% 300, "
                    "'proof_approval', 1800 + id %% 900) WHERE status = 'completed' AND completed_at >= %s "
                    "AND completed_at < %s AND id %% 5 = 0 AND paused_by_reason IS NULL", (start, stop))
        if cur.rowcount:
            say(f"gave {cur.rowcount:,} steps of the month pauses")
            cur.execute("VACUUM (ANALYZE) job_steps")


def _execution_ms(conn, statement, params):
    """Return the database's execution time of `statement` (EXPLAIN ANALYZE), in ms."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + sql.SQL(statement) if isinstance(statement, str)
                    else sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + statement, params)
        plan = cur.fetchone()[0][0]
    return plan["Execution Time"]


def _db_ms(conn, statement, params, repeat):
    samples = [_execution_ms(conn, statement, params) for _ in range(repeat)]
    return statistics.median(samples), min(samples), max(samples)


def _cell(values):
    return f"{ms(values[0])} ({ms(values[1])}-{ms(values[2])})"


def measure(url, repeat):
    """Return the markdown table of the report's and the queues' times on the database at `url`."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        start, stop = _month(cur)
        _add_pauses(conn, start, stop)
        cur.execute("SELECT count(*) FROM job_steps WHERE status = 'completed' AND completed_at >= %s "
                    "AND completed_at < %s", (start, stop))
        month_steps = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM job_steps")
        all_steps = cur.fetchone()[0]
        cur.execute("SELECT assigned_to, count(*) FROM job_steps WHERE assigned_to IS NOT NULL "
                    "GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        user_id, user_steps = cur.fetchone() or (0, 0)  # a tiny set (the harness's test) may have none
        cur.execute("SELECT machine_id, count(*) FROM job_steps WHERE machine_id IS NOT NULL "
                    "AND status IN ('pending', 'in_progress', 'paused') GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        machine_id, machine_steps = cur.fetchone() or (0, 0)
    rows = []
    reporting = psycopg2.connect(url)  # a transaction per report, as the endpoint runs it
    for by in ("process", "machine", "operator"):
        params = {"by": by, "start": start, "stop": stop}
        report = _report_runner(reporting, params)
        rows.append((f"report by {by}, {start:%Y-%m} ({month_steps:,} steps)", timed(report, repeat),
                     _backend_cpu_ms(reporting, report, repeat), "<= 100 ms"))
    reporting.close()
    naive_params = {"start": start, "stop": stop}
    naive = query_timer(conn, NAIVE_REPORT, naive_params)
    rows.append(("naive twin: report by process from the segments", timed(naive, max(3, repeat // 5)),
                 _backend_cpu_ms(conn, naive, max(3, repeat // 5)), ""))
    first_page = sql.SQL(queues_sql.list_my_steps).format(**MOST_URGENT.parts(after=False))
    for label, statement, params, goal in (
            (f"me/steps page 1 ({user_steps:,} steps)", first_page,
             {"user_id": user_id, "status": None, "machine_id": None, "limit": 20, "offset": 0}, "< 5 ms db"),
            ("me/steps?status=paused page 1", first_page,
             {"user_id": user_id, "status": "paused", "machine_id": None, "limit": 20, "offset": 0}, "< 5 ms db"),
            (f"machines/<id>/queue page 1 ({machine_steps:,} open)",
             sql.SQL(queues_sql.list_machine_queue).format(**MOST_URGENT.parts(after=False)),
             {"machine_id": machine_id, "limit": 20, "offset": 0}, "< 5 ms db")):
        rows.append((label, timed(query_timer(conn, statement, params), repeat),
                     _db_ms(conn, statement, params, repeat), goal))
    conn.close()
    lines = [f"{all_steps:,} steps in all; median (min-max) of {repeat} runs, ms. Database: the report rows give "
             "the server process's CPU time per report (psutil), the queue rows EXPLAIN ANALYZE's execution time", "",
             "| statement | wall (one connection) | database | goal |", "|---|---:|---:|---|"]
    lines += [f"| {label} | {_cell(wall)} | {_cell(db)} | {goal} |" for label, wall, db, goal in rows]
    return "\n".join(lines)


def main(jobs=1_000_000, repeat=15):
    with database_server() as server_url:
        started = time.monotonic()
        url, seeded = seeded_database(server_url, f"bench_{jobs}", jobs)
        say(f"data set ready in {time.monotonic() - started:.0f} s (seeding: {seeded:.0f} s; the rest is "
            "migrating and VACUUM)")
        print(measure(url, repeat))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))

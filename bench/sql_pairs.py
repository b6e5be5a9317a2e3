"""In-process pairs: each optimisation against its naive twin, on the same connection, in one run."""
from datetime import date, timedelta
from pathlib import Path

import psycopg2
from psycopg2 import sql

from apps.api.db import Queries
from apps.api.resources.customers import BY_NAME
from apps.api.resources.queues import MOST_URGENT
from bench.harness import query_timer, ratio, timed

bench_sql = Queries(Path(__file__).with_name("queries.sql"))
dashboard_sql = Queries("dashboard.sql")
customers_sql = Queries("customers.sql")
queues_sql = Queries("queues.sql")


def _row(label, what, naive, optimised, goal=""):
    """One table row: (pair, what, naive (median, min, max), optimised (...), ratio, goal)."""
    return {"pair": label, "what": what, "naive": naive, "optimised": optimised,
            "ratio": ratio(naive[0], optimised[0]), "goal": goal}


def _operator_id(cur):
    cur.execute("SELECT id FROM users WHERE username = 'operator1'")
    return cur.fetchone()[0]


def stats_scaling(urls_by_size, repeat):
    """Naive single CTE vs the project's stats query at each data size; returns table rows and raw medians."""
    rows, project_ms = [], {}
    for size, url in urls_by_size.items():
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            params = {"user_id": _operator_id(cur)}
        naive = timed(query_timer(conn, dashboard_sql.get_stats_naive, params), max(3, repeat // 5))
        project = timed(query_timer(conn, dashboard_sql.get_stats, params), repeat)
        conn.close()
        project_ms[size] = project[0]
        rows.append(_row(f"stats query at {size:,} jobs", "naive single CTE over jobs + job_steps vs counters",
                         naive, project, "project >= 100x faster at 1M"))
    return rows, project_ms


def four_queries_vs_cte(url, repeat):
    """The report's claim: one CTE is 4x faster than four separate queries (both over base tables)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        params = {"user_id": _operator_id(cur)}
    statements = (bench_sql.stats_jobs, bench_sql.stats_tasks, bench_sql.stats_machines, bench_sql.stats_users)

    def four():
        for statement in statements:
            query_timer(conn, statement, params)()

    count = max(3, repeat // 5)
    separate = timed(four, count)
    one = timed(query_timer(conn, dashboard_sql.get_stats_naive, params), count)
    conn.close()
    return _row("4 queries vs 1 CTE", "same naive counts, 4 round trips vs 1", separate, one, "report: 4x")


def _month_starts(months):
    first = date.today().replace(day=1)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return sorted(starts)


def month_chart(url, repeat, months=12):
    """The 12-month chart from the jobs table vs from the monthly rollup."""
    starts = _month_starts(months)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    base = timed(query_timer(conn, bench_sql.jobs_by_month_naive, {"first": starts[0], "last": starts[-1]}),
                 max(3, repeat // 5))
    rollup = timed(query_timer(conn, dashboard_sql.count_jobs_by_month, {"months": months}), repeat)
    conn.close()
    return _row("month chart", f"{months} months: GROUP BY over jobs vs monthly rollup", base, rollup, ">= 10x at 1M")


def _in_scratch(conn, setup, run, repeat):
    """Time `run` after `setup` inside a transaction that is rolled back (DDL included)."""
    with conn.cursor() as cur:
        for statement in setup:
            cur.execute(statement)
    try:
        return timed(run, repeat)
    finally:
        conn.rollback()


def customer_search(url, repeat, terms=("bakery 1234", "555-0042", "customer987@")):
    """Substring search ILIKE '%q%' over name, email, phone: no index, btree, trigram GIN."""
    conn = psycopg2.connect(url)
    params = [{"pattern": f"%{term}%", "limit": 20, "offset": 0} for term in terms]
    statement = sql.SQL(customers_sql.list_customers).format(**BY_NAME.parts(False))

    def search():
        for one in params:
            query_timer(conn, statement, one)()

    no_index = _in_scratch(conn, [bench_sql.drop_search_trigram_indexes], search, max(3, repeat // 5))
    btree = _in_scratch(conn, [bench_sql.drop_search_trigram_indexes, bench_sql.create_search_btree_indexes],
                        search, max(3, repeat // 5))
    trigram = _in_scratch(conn, [], search, repeat)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers")
        customers = cur.fetchone()[0]
    conn.close()
    what = f"{len(terms)} searches over {customers:,} customers"
    return [_row("customer search: none vs trigram", what, no_index, trigram, "report: 23x"),
            _row("customer search: btree vs trigram", what + " (a btree cannot serve '%x%')", btree, trigram)]


def index_migration(url, repeat):
    """Jobs by status, overdue jobs and an operator's open steps, without vs with migrations/0002's indexes."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        operator = _operator_id(cur)
    conn.rollback()
    cases = [
        ("jobs by status", bench_sql.jobs_by_status_page, {"status": "on_hold"}),
        ("overdue jobs", bench_sql.overdue_jobs_page, {}),
        ("an operator's open steps", bench_sql.operator_open_steps, {"user_id": operator}),
    ]
    rows = []
    for label, statement, params in cases:
        run = query_timer(conn, statement, params)
        without = _in_scratch(conn, [bench_sql.drop_job_indexes], run, max(3, repeat // 5))
        with_index = _in_scratch(conn, [], run, repeat)
        rows.append(_row(f"index: {label}", "without vs with migrations/0002_indexes.sql", without, with_index,
                         "report: 5-50x"))
    conn.close()
    return rows


def work_queue(url, repeat):
    """An operator's first page of GET /api/me/steps: join and sort vs the urgency copy's index (0040)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        params = {"user_id": _operator_id(cur), "status": None, "machine_id": None, "limit": 20, "offset": 0}
        cur.execute("SELECT count(*) FROM job_steps WHERE assigned_to = %(user_id)s", params)
        steps = cur.fetchone()[0]
    naive = timed(query_timer(conn, bench_sql.my_steps_naive, params), max(3, repeat // 5))
    first_page = sql.SQL(queues_sql.list_my_steps).format(**MOST_URGENT.parts(after=False))
    indexed = timed(query_timer(conn, first_page, params), repeat)
    conn.close()
    return _row("work queue (me/steps)", f"page 1 of {steps:,} steps: join + sort vs index order", naive, indexed,
                "index-served")


def pool_rows(url, repeat, batch=20):
    """Connect per request vs this project's pool: the same SELECT 1 round trip, in-process."""
    from apps.api.db.pool import ConnectionPool

    def connect_each():
        for _ in range(batch):
            conn = psycopg2.connect(url)
            query_timer(conn, "SELECT 1")()
            conn.close()

    pool = ConnectionPool(url, min_size=1, max_size=1)

    def pooled():
        for _ in range(batch):
            with pool.connection() as conn:
                query_timer(conn, "SELECT 1")()

    try:
        per_call = lambda sample: tuple(value / batch for value in sample)  # noqa: E731
        naive = per_call(timed(connect_each, max(3, repeat // 3)))
        optimised = per_call(timed(pooled, repeat))
    finally:
        pool.close()
    return [_row("connect per request vs pool (in-process)", "get a connection + SELECT 1 + give it back",
                 naive, optimised, ">= 20x")]


def trigger_cost(url, repeat):
    """Single-row and 10k-row job writes without vs with the dashboard counter triggers (medians)."""
    from bench import dashboard_numbers

    rows = []
    for name, mode, without, with_triggers in dashboard_numbers.write_numbers(url, max(10, repeat)):
        label = f"counter triggers: {name}" + ("" if mode == "on" else " (synchronous_commit off)")
        row = _row(label, f"synchronous_commit={mode}; without vs with the triggers",
                   (without, without, without), (with_triggers, with_triggers, with_triggers),
                   "<= +25 % on a single-row write")
        row["note"] = f"{(with_triggers / without - 1) * 100:+.0f} % (medians of alternating on/off runs)"
        rows.append(row)
    return rows

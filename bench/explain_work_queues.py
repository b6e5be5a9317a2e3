"""Print the plans of the work-queue statements (GET /api/me/steps, GET /api/machines/<id>/queue).

    .venv/bin/python -m bench.explain_work_queues postgresql://.../db   # a seeded database, e.g. 1M jobs

Takes the operator with the most steps and the machine with the most open steps, and runs EXPLAIN
(ANALYZE, BUFFERS) of the first page, each ?status=, a deep page and the counts: every page should be
an index scan of idx_job_steps_my_queue / idx_job_steps_machine_queue under a Limit; no sort of the
operator's steps (at most the page's 20 rows are sorted again after the join).
"""
import sys

import psycopg2
from psycopg2 import sql

from apps.api.db import Queries
from apps.api.resources.queues import MOST_URGENT

queries = Queries("queues.sql")


def explain(cur, title, statement, params):
    print(f"\n## {title}")
    first_page = sql.SQL(statement).format(**MOST_URGENT.parts(after=False)) if "{after}" in statement \
        else sql.SQL(statement)
    cur.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ") + first_page, params)
    for (line,) in cur.fetchall():
        print(line)


def main(url):
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    cur.execute("SELECT assigned_to, count(*) FROM job_steps WHERE assigned_to IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
    user_id, steps = cur.fetchone()
    cur.execute("SELECT machine_id, count(*) FROM job_steps WHERE machine_id IS NOT NULL "
                "AND status IN ('pending', 'in_progress', 'paused') GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
    machine_id, queued = cur.fetchone()
    print(f"operator {user_id}: {steps:,} steps; machine {machine_id}: {queued:,} open steps")
    page = {"user_id": user_id, "status": None, "machine_id": None, "limit": 20, "offset": 0}
    explain(cur, "me/steps, page 1", queries.list_my_steps, page)
    for status in ("in_progress", "paused", "pending", "completed", "skipped"):
        explain(cur, f"me/steps?status={status}", queries.list_my_steps, dict(page, status=status))
    explain(cur, "me/steps, page 500 (OFFSET)", queries.list_my_steps, dict(page, offset=9980))
    explain(cur, "me/steps count", "SELECT count(*) FROM (" + queries.match_my_steps.rstrip().rstrip(";") + ") m",
            page)
    explain(cur, "machines/<id>/queue, page 1", queries.list_machine_queue,
            {"machine_id": machine_id, "limit": 20, "offset": 0})
    explain(cur, "machines/<id>/queue count",
            "SELECT count(*) FROM (" + queries.match_machine_queue.rstrip().rstrip(";") + ") m",
            {"machine_id": machine_id})
    conn.close()


if __name__ == "__main__":
    main(sys.argv[1])

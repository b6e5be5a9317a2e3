"""The overdue rule and the status sets are written once: SQL functions (migration 0060), one tuple each."""
import re
from datetime import timedelta
from pathlib import Path

import psycopg2.extras
import pytest

from apps.api.db import Queries
from apps.api.domain.statuses import JOB_STATUSES, MACHINE_STATUSES, STEP_STATUSES
from tests.support.auth import get_as
from tests.support.factories import add_customer, add_job, utc_today

ROOT = Path(__file__).resolve().parents[2]
RULE_0060 = "0060_overdue_rule.sql"
# The rule itself: a status test against the closed statuses, or a due date against a date.
RULE_COPIES = re.compile(r"NOT IN \('completed', 'cancelled'\)|due_date\s*<|now\(\) AT TIME ZONE 'UTC'|current_date")


def _sql_files():
    migrations = [path for path in (ROOT / "migrations").glob("*.sql") if path.name > RULE_0060]
    return [*(ROOT / "apps/api/sql").glob("*.sql"), *(ROOT / "bench").glob("*.sql"), *migrations]


# A partial index's predicate is written out: the planner matches a query's (inlined) predicate against it.
INDEX_PREDICATE = re.compile(r"^\s*WHERE status NOT IN \('completed', 'cancelled'\);$")


@pytest.mark.parametrize("path", _sql_files(), ids=lambda path: path.name)
def test_no_sql_file_writes_the_overdue_rule_again(path):
    copies = [line for line in path.read_text().splitlines()
              if RULE_COPIES.search(line) and not line.lstrip().startswith("--") and not INDEX_PREDICATE.match(line)]
    assert copies == [], f"use job_is_open / job_is_overdue / today_utc (migrations/{RULE_0060})"


def test_no_python_module_takes_today_from_its_own_clock():
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "apps").rglob("*.py")
                 if re.search(r"date\.today\(\)|datetime\.now\([^)]*\)\.date\(\)", path.read_text())]
    assert offenders == []


def _check_values(db, table):
    with db.cursor() as cur:
        cur.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%%status%%'",
                    (table,))
        # The constraint naming the most values is the status set (others tie a status to a timestamp).
        return max((set(re.findall(r"'(\w+)'::text", row[0])) for row in cur.fetchall()), key=len)


@pytest.mark.parametrize("table, statuses", [("jobs", JOB_STATUSES), ("job_steps", STEP_STATUSES),
                                             ("machines", MACHINE_STATUSES)])
def test_the_status_tuples_are_the_databases_sets(db, table, statuses):
    assert _check_values(db, table) == set(statuses)


def test_every_overdue_answer_agrees_on_the_databases_today(client, auth, db):
    customer = add_customer(db)
    today = utc_today()
    late = add_job(db, customer, "on_hold", today - timedelta(days=1), title="Late banner")
    add_job(db, customer, "active", today, title="Due today")
    add_job(db, customer, "completed", today - timedelta(days=3), title="Done")
    add_job(db, customer, "draft", None, title="Undated")
    with db.cursor() as cur:
        cur.execute("SELECT id FROM jobs WHERE job_is_overdue(status, due_date)")
        assert [row[0] for row in cur.fetchall()] == [late]
    listed = get_as(client, auth, "/api/jobs?overdue=true", "viewer").get_json()
    assert [job["id"] for job in listed["items"]] == [late] and listed["items"][0]["is_overdue"] is True
    not_late = get_as(client, auth, "/api/jobs?overdue=false", "viewer").get_json()["pagination"]["total"]
    assert not_late == 3
    assert get_as(client, auth, f"/api/jobs/{late}", "viewer").get_json()["is_overdue"] is True
    assert get_as(client, auth, "/api/dashboard/stats", "viewer").get_json()["jobs"]["overdue"] == 1


def test_the_rule_is_inlined_so_the_open_jobs_index_still_serves_it(db):
    match = Queries("jobs.sql").match_jobs
    with db.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute("BEGIN; SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN (FORMAT JSON) " + match,
                    {"status": None, "customer_id": None, "overdue": True, "pattern": None, "job_number": None,
                     "due_from": None, "due_to": None, "due_desc": False, "customer_ids": None,
                     "customer_pattern": None})
        plan = str(cur.fetchone()["QUERY PLAN"])
        cur.execute("ROLLBACK")
    assert re.search(r"idx_jobs_open_\w+", plan) and "job_is_overdue" not in plan, plan  # a partial index of open jobs

"""Deterministic demo and benchmark data, generated set-based inside PostgreSQL."""
import time
from datetime import UTC, datetime

from ..db import Queries, connect, one_row
from ..domain.passwords import hash_password

queries = Queries("seed.sql")

DEMO_USERS = [
    ("admin", "Ada Admin", "admin"),
    ("manager", "Max Manager", "manager"),
    ("operator1", "Olivia Operator", "operator"),
    ("operator2", "Omar Operator", "operator"),
    ("operator3", "Oksana Operator", "operator"),
    ("operator4", "Otto Operator", "operator"),
    ("operator5", "Opal Operator", "operator"),
    ("viewer", "Vera Viewer", "viewer"),
]
JOB_BATCH = 100_000


def seed_users(cur, password):
    """Insert the contract's demo users (existing usernames are kept)."""
    # One scrypt hash for all: they share the documented demo password anyway, and it keeps seeding fast.
    password_hash = hash_password(password)
    for username, full_name, role in DEMO_USERS:
        cur.execute(queries.insert_demo_user, {
            "username": username, "full_name": full_name, "email": f"{username}@example.com",
            "role": role, "password_hash": password_hash,
        })


def _progress_line(label, done, total, started):
    elapsed = time.monotonic() - started
    rate = done / elapsed if elapsed else 0
    return f"  {label}: {done:>10,} / {total:,}  ({elapsed:5.1f} s, {rate:,.0f}/s)"


def _skip_reference_checks(cur):
    """Skip foreign-key triggers for this session when allowed (superuser): rows are valid by construction."""
    cur.execute(queries.is_superuser)
    if one_row(cur)[0]:
        cur.execute(queries.skip_reference_checks)
        return True
    return False


def seed(database_url, jobs, customers, seed_value=42, password="demo", progress=print):
    """Fill the database with demo users, machines, `customers` customers and `jobs` jobs with steps."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    conn = connect(database_url, "seed")
    started = time.monotonic()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(queries.no_parallel_workers)
            cur.execute(queries.create_seed_rand)
            seed_users(cur, password)
            cur.execute(queries.insert_machines)
            cur.execute(queries.customer_count)
            have = one_row(cur)[0]
            if customers:
                cur.execute(queries.insert_customers, {"seed": seed_value, "start": have + 1,
                                                       "stop": have + customers, "now": now})
            progress(f"  customers: {customers:,} in {time.monotonic() - started:.1f} s")
        job_started = time.monotonic()
        for start in range(1, jobs + 1, JOB_BATCH):
            stop = min(start + JOB_BATCH - 1, jobs)
            # One transaction per batch: a large seed shows progress and does not hold one huge transaction.
            with conn, conn.cursor() as cur:
                cur.execute(queries.create_seed_rand)
                _skip_reference_checks(cur)
                cur.execute(queries.job_id_bounds)
                first_id = one_row(cur)[0] + 1
                params = {"seed": seed_value, "start": start, "stop": stop, "total": jobs, "now": now}
                cur.execute(queries.insert_jobs, params)
                cur.execute(queries.job_id_bounds)
                last_id = one_row(cur)[0]
                cur.execute(queries.insert_steps, dict(params, first_id=first_id, last_id=last_id))
                cur.execute(queries.insert_step_segments, {"first_id": first_id, "last_id": last_id})
            progress(_progress_line("jobs", stop, jobs, job_started))
        with conn, conn.cursor() as cur:
            # The batches above ran without triggers (as superuser), so count the dashboard afresh.
            cur.execute(queries.rebuild_dashboard_counters)
            cur.execute(queries.analyze)
    finally:
        conn.close()
    elapsed = time.monotonic() - started
    progress(f"  seeded {jobs:,} jobs and {customers:,} customers in {elapsed:.1f} s")
    return elapsed

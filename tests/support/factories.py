"""Rows the tests arrange: customers and jobs in plain SQL, and jobs created through the API."""
from datetime import UTC, datetime


def utc_today():
    """Return today's date in UTC (what "overdue" is measured against)."""
    return datetime.now(UTC).date()


def add_customer(db, name="Acme Signs", email=None):
    """Insert a customer in plain SQL; return its id."""
    with db.cursor() as cur:
        cur.execute("INSERT INTO customers (name, email) VALUES (%s, %s) RETURNING id", (name, email))
        return cur.fetchone()[0]


def add_job(db, customer_id, status="draft", due_date=None, created_at=None, steps=(), title="Banner"):
    """Insert a job in plain SQL, with `steps` as (assignee id or None, step status) pairs; return its id."""
    with db.cursor() as cur:
        cur.execute("INSERT INTO jobs (customer_id, title, status, due_date, created_at) "
                    "VALUES (%s, %s, %s, %s, coalesce(%s, now())) RETURNING id",
                    (customer_id, title, status, due_date, created_at))
        job_id = cur.fetchone()[0]
        for order, (assignee, step_status) in enumerate(steps, start=1):
            cur.execute(
                "INSERT INTO job_steps (job_id, step_order, process_id, name, status, assigned_to, "
                "started_at, completed_at) SELECT %(job)s, %(order)s, id, name, %(status)s, %(user)s, "
                "CASE WHEN %(status)s IN ('in_progress', 'completed') THEN now() END, "
                "CASE WHEN %(status)s = 'completed' THEN now() END "
                "FROM processes WHERE default_order = 1",
                {"job": job_id, "order": order, "status": step_status, "user": assignee})
    return job_id


def create_job(client, auth, customer_id, steps=(), **fields):
    """Create a job through POST /api/jobs as the manager; return the answer."""
    body = {"customer_id": customer_id, "title": "Shop front banner", "steps": list(steps), **fields}
    response = client.post("/api/jobs", json=body, headers=auth.headers("manager"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()

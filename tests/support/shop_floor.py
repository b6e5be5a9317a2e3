"""A small shop in plain SQL for the browser tests: customers, machines, jobs over six months, operator1's
steps and two unread notifications."""
from datetime import UTC, datetime, timedelta

from tests.support.factories import add_customer

CUSTOMERS = ("Harbour Signs Ltd", "Riverside Print Co", "Northgate Café", "Bellweather Events")
MACHINES = (("HP Latex 570", "printer", "print", "active"), ("Zünd G3", "cutter", "cut", "active"),
            ("Laminator 1600", "laminator", "laminate", "idle"), ("Router AXYZ", "router", "cut", "maintenance"))
# (title, customer index, status, priority, created this many days ago, due in this many days or None,
#  operator1's steps as (process code, machine index or None, step status))
JOBS = (
    ("Window vinyl, 6 panes", 0, "in_progress", "urgent", 2, 1, (("print", 0, "in_progress"), ("cut", 1, "pending"))),
    ("Trade show banner 3 m", 3, "active", "high", 5, 3, (("print", 0, "pending"), ("laminate", 2, "pending"))),
    ("Menu boards", 2, "active", "normal", 9, 10, (("design", None, "pending"),)),
    ("Vehicle wrap, van", 1, "in_progress", "high", 20, -3, (("print", 0, "completed"), ("laminate", 2, "pending"))),
    ("Shop front fascia", 0, "on_hold", "normal", 35, 14, ()),
    ("Roll-up stands x4", 3, "completed", "normal", 40, -20, (("print", 0, "completed"),)),
    ("Wayfinding signs", 1, "draft", "low", 55, 30, ()),
    ("Event posters A1", 2, "completed", "normal", 70, -50, ()),
    ("Floor graphics", 3, "cancelled", "low", 95, None, ()),
    ("Exhibition panels", 0, "completed", "high", 120, -90, ()),
    ("Car park signage", 1, "active", "normal", 150, -5, (("cut", 1, "pending"),)),
    ("Hoarding prints", 2, "completed", "normal", 160, -120, ()),
)


def arrange_shop(conn, operator_id):
    """Insert the shop; return {"customers": ids, "machines": ids, "jobs": ids}."""
    now = datetime.now(UTC)
    customers = [add_customer(conn, name) for name in CUSTOMERS]
    with conn.cursor() as cur:
        machines = []
        for name, kind, process, status in MACHINES:
            cur.execute("INSERT INTO machines (name, machine_type, process_id, status) "
                        "SELECT %s, %s, id, %s FROM processes WHERE code = %s RETURNING id",
                        (name, kind, status, process))
            machines.append(cur.fetchone()[0])
        jobs = []
        for title, customer, status, priority, age, due, steps in JOBS:
            cur.execute("INSERT INTO jobs (customer_id, title, status, priority, due_date, created_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                        (customers[customer], title, status, priority,
                         None if due is None else (now + timedelta(days=due)).date(), now - timedelta(days=age)))
            jobs.append(cur.fetchone()[0])
            for order, (process, machine, step_status) in enumerate(steps, start=1):
                cur.execute(
                    "INSERT INTO job_steps (job_id, step_order, process_id, name, status, assigned_to, machine_id, "
                    "started_at, completed_at) SELECT %(job)s, %(order)s, id, name, %(status)s, %(user)s, %(machine)s, "
                    "CASE WHEN %(status)s IN ('in_progress', 'completed') THEN now() END, "
                    "CASE WHEN %(status)s = 'completed' THEN now() END FROM processes WHERE code = %(process)s",
                    {"job": jobs[-1], "order": order, "status": step_status, "user": operator_id,
                     "machine": None if machine is None else machines[machine], "process": process})
        cur.execute("INSERT INTO notifications (user_id, kind, message, job_id) VALUES "
                    "(%(user)s, 'step_assigned', 'You were assigned Cut of Window vinyl, 6 panes', %(first)s), "
                    "(%(user)s, 'job_status', 'Trade show banner 3 m is now active', %(second)s)",
                    {"user": operator_id, "first": jobs[0], "second": jobs[1]})
    return {"customers": customers, "machines": machines, "jobs": jobs}


LONG_NAME = ("Harbour & Riverside Amalgamated Signwriting, Large Format Printing and Exhibition Graphics "
             "Cooperative of the Northern Counties (Trading As Bellweather Events) Ltd, Accounts Payable Dept.")[:200]
LONG_WORD = "https://files.example.com/artwork/" + "final-final-v7-" * 8 + "banner.pdf"


def arrange_long_names(conn, operator_id, machine_id):
    """Add a customer with a 200-character name, a job titled with a long unbroken word (a URL) on one of
    operator1's steps, and a user with a long name; return {"customer": id, "job": id}."""
    customer = add_customer(conn, LONG_NAME.ljust(200, "x"))
    with conn.cursor() as cur:
        cur.execute("INSERT INTO jobs (customer_id, title, description, status, priority, due_date) "
                    "VALUES (%s, %s, %s, 'active', 'high', current_date - 2) RETURNING id",
                    (customer, LONG_WORD, LONG_WORD))
        job = cur.fetchone()[0]
        cur.execute("INSERT INTO job_steps (job_id, step_order, process_id, name, status, assigned_to, machine_id) "
                    "SELECT %s, 1, id, name, 'pending', %s, %s FROM processes WHERE code = 'print'",
                    (job, operator_id, machine_id))
        cur.execute("UPDATE users SET full_name = %s WHERE username = 'operator2'", (LONG_NAME,))
    return {"customer": customer, "job": job}

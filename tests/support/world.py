"""A module-wide app over the reset test database, with a customer, an active job and one step."""
from contextlib import contextmanager
from types import SimpleNamespace

import psycopg2

from apps.api import close_resources, create_app
from tests.conftest import AuthActions, app_config, reset_database
from tests.test_dashboard import add_customer, add_job


@contextmanager
def module_world(test_database, customer_name, step_status):
    """Yield app, auth, an autocommit conn and the ids of a customer, its active job and operator1's step."""
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    app = create_app(app_config(url))
    app.testing = True
    auth = AuthActions(app, url)
    customer = add_customer(conn, customer_name)
    job = add_job(conn, customer, "active", steps=[(auth.user_id("operator1"), step_status)])
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM job_steps WHERE job_id = %s", (job,))
        step = cur.fetchone()[0]
    try:
        yield SimpleNamespace(app=app, auth=auth, conn=conn, customer=customer, job=job, step=step)
    finally:
        conn.close()
        close_resources(app)

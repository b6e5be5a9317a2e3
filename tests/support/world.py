"""A module-wide app over the reset test database, with a customer, an active job and one step."""
from contextlib import contextmanager
from types import SimpleNamespace

from tests.support.apps import module_app
from tests.support.factories import add_customer, add_job


@contextmanager
def module_world(test_database, customer_name, step_status):
    """Yield app, auth, an autocommit conn and the ids of a customer, its active job and operator1's step."""
    with module_app(test_database) as (app, auth, conn):
        customer = add_customer(conn, customer_name)
        job = add_job(conn, customer, "active", steps=[(auth.user_id("operator1"), step_status)])
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM job_steps WHERE job_id = %s", (job,))
            step = cur.fetchone()[0]
        yield SimpleNamespace(app=app, auth=auth, conn=conn, customer=customer, job=job, step=step)

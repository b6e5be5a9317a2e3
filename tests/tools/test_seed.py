"""The data generator: counts, distributions, determinism, and the CLI."""
import psycopg2
import pytest

from apps.api.tools.seed import DEMO_USERS, seed
from tests.support.database import TEST_DB, reset_database


def _rows(url, statement):
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seeded(test_database):
    """The test database seeded once for the module's read-only tests (the next test's reset undoes it)."""
    url, tables, sequences = test_database
    reset_database(url, tables, sequences)
    seed(url, jobs=3000, customers=200, seed_value=7, progress=lambda line: None)
    return url


def test_counts(seeded):
    assert _rows(seeded, "SELECT count(*) FROM jobs")[0][0] == 3000
    assert _rows(seeded, "SELECT count(*) FROM customers")[0][0] == 200
    per_job = _rows(seeded, "SELECT min(n), max(n), avg(n) FROM "
                            "(SELECT count(*) AS n FROM job_steps GROUP BY job_id) s")[0]
    assert per_job[0] == 3 and per_job[1] == 8 and 5.0 < float(per_job[2]) < 6.0
    assert _rows(seeded, "SELECT count(*) FROM jobs j WHERE NOT EXISTS "
                         "(SELECT 1 FROM job_steps s WHERE s.job_id = j.id)")[0][0] == 0


def test_demo_users_exist_with_contract_roles(seeded):
    users = dict(_rows(seeded, "SELECT username, role FROM users"))
    assert {name: role for name, _, role in DEMO_USERS}.items() <= users.items()


def test_status_distribution(seeded):
    share = dict(_rows(seeded, "SELECT status, count(*)::float / 3000 FROM jobs GROUP BY status"))
    closed = share.get("completed", 0) + share.get("cancelled", 0)
    assert 0.9 < closed < 0.99, "most jobs are completed or cancelled"
    assert share["completed"] > share["cancelled"]
    open_share = 1 - closed
    assert 0.01 < open_share < 0.08, "a few percent are open"
    overdue = _rows(seeded, "SELECT count(*) FROM jobs WHERE status NOT IN ('completed', 'cancelled') "
                            "AND due_date < current_date")[0][0]
    assert overdue > 0


def test_created_at_spans_three_years(seeded):
    days = _rows(seeded, "SELECT extract(epoch FROM max(created_at) - min(created_at)) / 86400 FROM jobs")[0][0]
    assert 1000 < days < 1100


def test_steps_are_consistent_with_their_job(seeded):
    assert _rows(seeded, "SELECT count(*) FROM job_steps s JOIN jobs j ON j.id = s.job_id "
                         "WHERE j.status = 'completed' AND s.status NOT IN ('completed', 'skipped')")[0][0] == 0
    assert _rows(seeded, "SELECT count(*) FROM job_steps s JOIN jobs j ON j.id = s.job_id "
                         "WHERE j.status IN ('draft', 'active') AND s.status <> 'pending'")[0][0] == 0
    roles = _rows(seeded, "SELECT DISTINCT u.role FROM job_steps s JOIN users u ON u.id = s.assigned_to")
    assert roles == [("operator",)]
    assert _rows(seeded, "SELECT count(DISTINCT machine_id) FROM job_steps")[0][0] > 5


def test_same_seed_same_data(database_url, pg_server):
    digest = "SELECT md5(string_agg(title || status || priority || customer_id, ',' ORDER BY id)) FROM jobs"
    seed(database_url, jobs=500, customers=50, seed_value=3, progress=lambda line: None)
    first = _rows(database_url, digest)
    other = f"{TEST_DB}_seed_copy"
    pg_server.drop_database(other)
    pg_server.create_database(other, template=TEST_DB)
    try:
        # The copy carries the first seed's rows; clear them and seed again with the same seed.
        url = pg_server.url(other)
        conn = psycopg2.connect(url)
        with conn, conn.cursor() as cur:
            cur.execute("TRUNCATE jobs, job_steps, customers RESTART IDENTITY CASCADE")
            cur.execute("SELECT setval('job_number_seq', 1, false)")
        conn.close()
        seed(url, jobs=500, customers=50, seed_value=3, progress=lambda line: None)
        second = _rows(url, digest)
    finally:
        pg_server.drop_database(other)
    assert first == second


def test_cli_seed(runner):
    result = runner.invoke(args=["seed", "--jobs", "250", "--customers", "20", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "jobs:        250 / 250" in result.output

"""Every schema constraint rejects the rows it exists to reject."""
import psycopg2
import pytest

CUSTOMER = "INSERT INTO customers (name, email) VALUES ('Acme', 'a@example.com') RETURNING id"


def _one(db, statement, params=None):
    with db.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchone()[0] if cur.description else None


@pytest.fixture
def job_id(db):
    customer = _one(db, CUSTOMER)
    return _one(db, "INSERT INTO jobs (customer_id, title) VALUES (%s, 'Banner') RETURNING id", (customer,))


@pytest.fixture
def process_id(db):
    return _one(db, "SELECT id FROM processes WHERE code = 'print'")


BAD_ROWS = [
    ("bad user role", "INSERT INTO users (username, role, password_hash) VALUES ('x', 'boss', repeat('h', 30))"),
    ("bad username", "INSERT INTO users (username, role, password_hash) VALUES ('a b', 'viewer', repeat('h', 30))"),
    ("empty password hash", "INSERT INTO users (username, role, password_hash) VALUES ('x', 'viewer', '')"),
    ("duplicate username",
     "INSERT INTO users (username, role, password_hash) VALUES ('admin', 'viewer', repeat('h', 30))"),
    ("uppercase email", "INSERT INTO customers (name, email) VALUES ('A', 'A@Example.com')"),
    ("email without @", "INSERT INTO customers (name, email) VALUES ('A', 'nobody')"),
    ("blank customer name", "INSERT INTO customers (name) VALUES ('   ')"),
    ("null customer name", "INSERT INTO customers (name) VALUES (NULL)"),
    ("bad machine status", "INSERT INTO machines (name, machine_type, status) VALUES ('M', 't', 'broken')"),
    ("bad process code", "INSERT INTO processes (code, name, default_order) VALUES ('Bad Code', 'x', 1)"),
    ("zero default order", "INSERT INTO processes (code, name, default_order) VALUES ('x', 'x', 0)"),
    ("bad permission role", "INSERT INTO role_process_permissions (role, process_id) VALUES ('boss', 1)"),
    ("job without customer", "INSERT INTO jobs (customer_id, title) VALUES (NULL, 't')"),
    ("job of unknown customer", "INSERT INTO jobs (customer_id, title) VALUES (999999, 't')"),
    ("bad notification kind", "INSERT INTO notifications (user_id, kind, message) VALUES (1, 'spam', 'm')"),
    ("bad audit action", "INSERT INTO audit_logs (action, entity) VALUES ('explode', 'jobs')"),
    ("audit changes not an object",
     "INSERT INTO audit_logs (action, entity, changes) VALUES ('create', 'jobs', '[1]')"),
]


@pytest.mark.parametrize("label, statement", BAD_ROWS, ids=[row[0] for row in BAD_ROWS])
def test_bad_row_is_rejected(db, label, statement):
    with pytest.raises(psycopg2.IntegrityError):
        _one(db, statement)


JOB_BAD_VALUES = [
    ("status", "'shipped'"), ("priority", "'asap'"), ("title", "''"),
]


@pytest.mark.parametrize("column, value", JOB_BAD_VALUES)
def test_job_rejects_bad_values(db, job_id, column, value):
    with pytest.raises(psycopg2.IntegrityError):
        _one(db, f"UPDATE jobs SET {column} = {value} WHERE id = %s", (job_id,))


STEP_BAD = [
    ("bad status", "status = 'done'"),
    ("completed without completed_at", "status = 'completed'"),
    ("in_progress without started_at", "status = 'in_progress'"),
    ("completed before started",
     "started_at = now(), completed_at = now() - interval '1 hour', status = 'completed'"),
    ("step order zero", "step_order = 0"),
]


@pytest.mark.parametrize("label, assignment", STEP_BAD, ids=[row[0] for row in STEP_BAD])
def test_step_rejects_inconsistent_values(db, job_id, process_id, label, assignment):
    step = _one(db, "INSERT INTO job_steps (job_id, step_order, process_id, name) "
                    "VALUES (%s, 1, %s, 'Print') RETURNING id", (job_id, process_id))
    with pytest.raises(psycopg2.IntegrityError):
        _one(db, f"UPDATE job_steps SET {assignment} WHERE id = %s", (step,))


def test_duplicate_step_order_is_rejected(db, job_id, process_id):
    insert = "INSERT INTO job_steps (job_id, step_order, process_id, name) VALUES (%s, 1, %s, 'Print')"
    _one(db, insert, (job_id, process_id))
    with pytest.raises(psycopg2.errors.UniqueViolation):
        _one(db, insert, (job_id, process_id))


def test_customer_with_jobs_cannot_be_deleted(db, job_id):
    with pytest.raises(psycopg2.errors.RestrictViolation):
        _one(db, "DELETE FROM customers")


def test_deleting_a_job_deletes_its_steps(db, job_id, process_id):
    _one(db, "INSERT INTO job_steps (job_id, step_order, process_id, name) VALUES (%s, 1, %s, 'Print')",
         (job_id, process_id))
    _one(db, "DELETE FROM jobs WHERE id = %s", (job_id,))
    assert _one(db, "SELECT count(*) FROM job_steps") == 0


def test_updated_at_is_kept_by_the_database(db, job_id):
    before = _one(db, "UPDATE jobs SET updated_at = now() - interval '1 day' WHERE id = %s RETURNING updated_at",
                  (job_id,))
    after = _one(db, "UPDATE jobs SET title = 'New' WHERE id = %s RETURNING updated_at", (job_id,))
    assert after > before


def test_job_numbers_are_unique_and_generated(db):
    customer = _one(db, CUSTOMER)
    numbers = {_one(db, "INSERT INTO jobs (customer_id, title) VALUES (%s, 't') RETURNING job_number",
                    (customer,)) for _ in range(5)}
    assert len(numbers) == 5 and all(n.startswith("JOB-") for n in numbers)


def test_timestamps_are_timestamptz(db):
    with db.cursor() as cur:
        cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'")
        assert cur.fetchall() == []

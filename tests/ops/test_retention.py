"""Retention: old failed logins and read notifications go in batches, old audit months are exported and
dropped, the months ahead are created, and the elected scheduler runs it."""
import csv
import gzip
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from apps.api.ops import overdue
from apps.api.ops.retention import RetentionSettings, run_pass
from tests.support.waiting import eventually


@pytest.fixture
def conn(database_url):
    connection = psycopg2.connect(database_url)
    yield connection
    connection.close()


def _count(db, statement, params=None):
    with db.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchone()[0]


def _month_start(moment):
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def test_failed_logins_older_than_the_limit_go_in_batches(db, conn, tmp_path):
    with db.cursor() as cur:
        cur.execute("INSERT INTO failed_logins (username, ip, attempted_at) "
                    "SELECT 'old' || g, '10.0.0.1', now() - interval '100 days' - make_interval(secs => g) "
                    "FROM generate_series(1, 2500) g")
        cur.execute("INSERT INTO failed_logins (username, attempted_at) "
                    "SELECT 'young' || g, now() - interval '80 days' FROM generate_series(1, 20) g")
    report = run_pass(conn, RetentionSettings(batch_rows=1000, archive_dir=str(tmp_path)))
    print(f"\nretention: 2,500 failed logins in batches of 1,000, longest batch {report.longest_batch_ms:.1f} ms")
    assert report.deleted["failed_logins"] == 2500
    assert report.batches["failed_logins"] == 3  # 1000 + 1000 + 500, each its own transaction
    assert _count(db, "SELECT count(*) FROM failed_logins WHERE username LIKE 'old%%'") == 0
    assert _count(db, "SELECT count(*) FROM failed_logins WHERE username LIKE 'young%%'") == 20


def test_read_notifications_older_than_the_limit_go_unread_ones_stay(db, conn, auth, tmp_path):
    user_id = auth.user_id("operator1")
    with db.cursor() as cur:
        for label, is_read, days_ago, count in [("old read", True, 40, 1500), ("old unread", False, 40, 5),
                                                ("young read", True, 10, 7)]:
            cur.execute("INSERT INTO notifications (user_id, kind, message, is_read, created_at) "
                        "SELECT %s, 'system', %s, %s, now() - make_interval(days => %s) "
                        "FROM generate_series(1, %s)", (user_id, label, is_read, days_ago, count))
    report = run_pass(conn, RetentionSettings(batch_rows=400, archive_dir=str(tmp_path)))
    assert (report.deleted["notifications"], report.batches["notifications"]) == (1500, 4)
    remaining = dict(_rows(db, "SELECT message, count(*) FROM notifications GROUP BY message"))
    assert remaining == {"old unread": 5, "young read": 7}


def _rows(db, statement, params=None):
    with db.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()


def _audit(db, at, count, entity="jobs"):
    """Insert `count` audit rows at `at` plus i minutes; return their ids."""
    return [row[0] for row in _rows(
        db, "INSERT INTO audit_logs (action, entity, entity_id, changes, created_at) "
            "SELECT 'update', %s, g, jsonb_build_object('n', g, 'note', 'a \"quoted\", comma'), "
            "%s + make_interval(mins => g) FROM generate_series(1, %s) g RETURNING id", (entity, at, count))]


def test_an_old_audit_month_is_exported_then_dropped_younger_rows_stay(db, conn, client, auth, tmp_path):
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=400)
    old_month = _month_start(cutoff - timedelta(days=40))  # its last day is well before the cutoff
    name = _rows(db, "SELECT audit_logs_add_month(%s)", (old_month,))[0][0]
    assert name == f"audit_logs_{old_month:%Y_%m}"
    old_ids = _audit(db, old_month + timedelta(days=1), 30)
    # No month partition covers these: they are in the default partition, old and young.
    stray_old = _audit(db, cutoff - timedelta(days=200), 4, entity="stray")
    stray_young = _audit(db, cutoff + timedelta(days=5), 3, entity="stray")
    recent = _audit(db, now - timedelta(days=3), 5, entity="customers")

    report = run_pass(conn, RetentionSettings(batch_rows=2, archive_dir=str(tmp_path)))

    assert report.exported == [tmp_path / f"{name}.csv.gz"]
    assert report.exported[0].stat().st_mode & 0o077 == 0  # user ids and client addresses
    with gzip.open(report.exported[0], "rt", newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert [int(row["id"]) for row in rows] == old_ids
    assert rows[0]["changes"] == '{"n": 1, "note": "a \\"quoted\\", comma"}'
    assert _rows(db, "SELECT to_regclass(%s)", (name,))[0][0] is None
    assert report.deleted["audit_logs_default"] == len(stray_old)  # the old strays, deleted without an export
    remaining = {row[0] for row in _rows(db, "SELECT id FROM audit_logs")}
    assert remaining.isdisjoint(stray_old)
    assert remaining == set(stray_young) | set(recent)

    # The admin's list keeps its order and contract over the partitions.
    response = client.get("/api/audit-logs?per_page=4", headers=auth.headers("admin"))
    body = response.get_json()
    assert response.status_code == 200
    assert [item["id"] for item in body["items"]] == recent[::-1][:4]
    page_two = client.get(f"/api/audit-logs?cursor={body['pagination']['next_cursor']}&per_page=4",
                          headers=auth.headers("admin")).get_json()
    assert [item["id"] for item in page_two["items"]] == [recent[0], *stray_young[::-1]][:4]
    one = client.get(f"/api/audit-logs/{stray_young[0]}", headers=auth.headers("admin"))
    assert one.status_code == 200 and one.get_json()["entity"] == "stray"


def test_a_month_detached_before_a_crash_is_exported_by_the_next_pass(db, conn, tmp_path):
    old_month = _month_start(datetime.now(UTC) - timedelta(days=500))
    name = _rows(db, "SELECT audit_logs_add_month(%s)", (old_month,))[0][0]
    ids = _audit(db, old_month, 3)
    with db.cursor() as cur:
        cur.execute(f'ALTER TABLE audit_logs DETACH PARTITION "{name}"')
    report = run_pass(conn, RetentionSettings(archive_dir=str(tmp_path)))
    assert [path.name for path in report.exported] == [f"{name}.csv.gz"]
    with gzip.open(report.exported[0], "rt", newline="") as exported:
        assert [int(row["id"]) for row in csv.DictReader(exported)] == ids
    assert _rows(db, "SELECT to_regclass(%s)", (name,))[0][0] is None


def test_the_months_ahead_are_created_and_every_write_finds_a_partition(db, conn, tmp_path):
    run_pass(conn, RetentionSettings(archive_dir=str(tmp_path)))
    month = _month_start(datetime.now(UTC))
    for ahead in range(4):
        at = month + timedelta(days=32 * ahead)
        ids = _audit(db, at, 1)
        partition = _rows(db, "SELECT tableoid::regclass::text FROM audit_logs WHERE id = %s", (ids[0],))[0][0]
        assert partition == f"audit_logs_{at:%Y_%m}"


def test_zero_days_keeps_everything(db, conn, tmp_path):
    with db.cursor() as cur:
        cur.execute("INSERT INTO failed_logins (username, attempted_at) VALUES ('ancient', now() - interval '9 years')")
    report = run_pass(conn, RetentionSettings(failed_login_days=0, archive_dir=str(tmp_path)))
    assert "failed_logins" not in report.deleted
    assert _count(db, "SELECT count(*) FROM failed_logins") == 1


def test_the_elected_scheduler_runs_retention(database_url, db, new_app, tmp_path):
    with db.cursor() as cur:
        cur.execute("INSERT INTO failed_logins (username, attempted_at) "
                    "SELECT 'old', now() - interval '91 days' FROM generate_series(1, 30)")
    app = new_app(database_url, OVERDUE_CHECK_SECONDS=0.1, RETENTION_CHECK_SECONDS=0.2, RETENTION_BATCH_ROWS=7,
                  AUDIT_ARCHIVE_DIR=str(tmp_path))
    overdue.start(app)
    assert eventually(lambda: _count(db, "SELECT count(*) FROM failed_logins") == 0, timeout=10)
    with db.cursor() as cur:  # the next interval's pass takes newly expired rows too
        cur.execute("INSERT INTO failed_logins (username, attempted_at) VALUES ('old', now() - interval '91 days')")
    assert eventually(lambda: _count(db, "SELECT count(*) FROM failed_logins") == 0, timeout=10)


def test_cli_runs_one_pass(app, runner, db, tmp_path):
    app.config["AUDIT_ARCHIVE_DIR"] = str(tmp_path)
    with db.cursor() as cur:
        cur.execute("INSERT INTO failed_logins (username, attempted_at) VALUES ('old', now() - interval '91 days')")
    result = runner.invoke(args=["retention"])
    assert result.exit_code == 0, result.output
    assert "failed_logins 1" in result.output
    assert _count(db, "SELECT count(*) FROM failed_logins") == 0

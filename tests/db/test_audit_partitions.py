"""Migration 0080 on a database that already has an audit trail: the rows stay, as the legacy partition."""
import shutil

import psycopg2

from apps.api.db import migrate


def _rows(url, statement, params=None):
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()
    finally:
        conn.close()


def test_existing_audit_rows_become_the_legacy_partition(empty_database_url, tmp_path):
    directory = tmp_path / "migrations"
    directory.mkdir()
    later = [m for m in migrate.discover() if m.version >= "0080"]
    for m in migrate.discover():
        if m.version < "0080":
            shutil.copy(m.path, directory)
    migrate.upgrade(empty_database_url, directory, log=lambda line: None)
    _rows(empty_database_url,
          "INSERT INTO audit_logs (action, entity, entity_id, created_at) "
          "SELECT 'create', 'jobs', g, now() - make_interval(days => g * 7) FROM generate_series(0, 120) g "
          "RETURNING id")
    before = _rows(empty_database_url,
                   "SELECT id, entity_id, created_at FROM audit_logs ORDER BY created_at DESC, id DESC")

    for m in later:
        shutil.copy(m.path, directory)
    migrate.upgrade(empty_database_url, directory, log=lambda line: None)

    assert _rows(empty_database_url, "SELECT relkind FROM pg_class WHERE relname = 'audit_logs'") == [("p",)]
    assert _rows(empty_database_url, "SELECT id, entity_id, created_at FROM audit_logs "
                                     "ORDER BY created_at DESC, id DESC") == before
    assert {row[0] for row in _rows(empty_database_url, "SELECT DISTINCT tableoid::regclass::text FROM audit_logs")} \
        == {"audit_logs_legacy"}
    # New rows continue the ids and land in the months ahead (the legacy partition ends with this month).
    new_id, partition = _rows(empty_database_url,
                              "INSERT INTO audit_logs (action, entity, created_at) "
                              "VALUES ('create', 'jobs', now() + interval '40 days') "
                              "RETURNING id, tableoid::regclass::text")[0]
    assert new_id > max(row[0] for row in before)
    assert partition.startswith("audit_logs_20")
    # The legacy partition's own indexes serve it (attached, not rebuilt), and the list reads an index.
    indexes = {row[0] for row in _rows(empty_database_url,
                                       "SELECT indexrelid::regclass::text FROM pg_index "
                                       "WHERE indrelid = 'audit_logs_legacy'::regclass AND indisvalid")}
    assert {"idx_audit_logs_legacy_entity", "idx_audit_logs_legacy_user",
            "idx_audit_logs_legacy_created_at"} <= indexes

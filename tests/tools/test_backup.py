"""Backups that restore: `db backup` a seeded database, `db restore` it into an empty one, find it whole."""
import psycopg2
from psycopg2 import sql

from apps.api.tools.seed import seed


def _fingerprint(url):
    """Return {table: (rows, md5 of every row in order)} of the public schema, and every sequence's value."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            tables = {}
            for (table,) in cur.fetchall():
                cur.execute(sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                                    "FROM public.{} t").format(sql.Identifier(table)))
                tables[table] = cur.fetchone()
            cur.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
                        "ORDER BY sequencename")
            return tables, cur.fetchall()
    finally:
        conn.close()


def _seed_with_history(url):
    seed(url, jobs=300, customers=30, seed_value=5, progress=lambda line: None)
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO audit_logs (action, entity, entity_id, changes) "
                        "SELECT 'update', 'jobs', id, jsonb_build_object('status', status) FROM jobs LIMIT 50")
            cur.execute("INSERT INTO notifications (user_id, kind, message, job_id) "
                        "SELECT u.id, 'system', 'hello ' || j.job_number, j.id FROM users u, "
                        "(SELECT * FROM jobs LIMIT 5) j")
    finally:
        conn.close()


def test_backup_restores_into_an_empty_database_whole(app, runner, database_url, empty_database_url, tmp_path):
    _seed_with_history(database_url)
    before = _fingerprint(database_url)
    assert before[0]["jobs"][0] == 300 and before[0]["audit_logs"][0] == 50
    backup_file = tmp_path / "printshop.dump"

    result = runner.invoke(args=["db", "backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert backup_file.stat().st_size > 0 and not (tmp_path / "printshop.dump.partial").exists()
    assert backup_file.stat().st_mode & 0o077 == 0  # the whole database: its owner's eyes only

    app.config["DATABASE_URL"] = empty_database_url
    result = runner.invoke(args=["db", "restore", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert _fingerprint(empty_database_url) == before

    result = runner.invoke(args=["dashboard", "verify"])
    assert result.exit_code == 0, result.output
    assert "no drift" in result.output
    result = runner.invoke(args=["db", "status"])
    assert "pending" not in result.output


def test_restore_refuses_a_database_that_is_not_empty(app, runner, database_url, tmp_path):
    backup_file = tmp_path / "printshop.dump"
    assert runner.invoke(args=["db", "backup", str(backup_file)]).exit_code == 0
    before = _fingerprint(database_url)
    result = runner.invoke(args=["db", "restore", str(backup_file)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert _fingerprint(database_url) == before


def test_backup_of_an_unreachable_database_fails_clearly_and_leaves_no_file(app, runner, tmp_path):
    app.config["DATABASE_URL"] = "postgresql://nobody:secret-word@127.0.0.1:1/none"
    backup_file = tmp_path / "printshop.dump"
    result = runner.invoke(args=["db", "backup", str(backup_file)])
    assert result.exit_code == 1
    assert "pg_dump failed" in result.output and "secret-word" not in result.output
    assert list(tmp_path.iterdir()) == []

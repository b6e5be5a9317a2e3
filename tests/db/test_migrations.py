"""The migration runner: order, checksums, concurrent starts, status."""
import shutil
import threading

import psycopg2
import pytest

from apps.api.db import migrate
from tests.support.database import applied_versions

pytestmark = pytest.mark.slow  # every test migrates a database of its own from nothing



def _copy_migrations(tmp_path):
    target = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, target)
    return target


def test_upgrade_applies_every_file_in_order_then_nothing(empty_database_url):
    applied = migrate.upgrade(empty_database_url, log=lambda line: None)
    expected = [m.version for m in migrate.discover()]
    assert applied == expected == sorted(expected)
    assert applied_versions(empty_database_url) == expected
    assert migrate.upgrade(empty_database_url, log=lambda line: None) == []


def test_status_lists_applied_and_pending(empty_database_url, tmp_path):
    directory = _copy_migrations(tmp_path)
    applied, pending = migrate.status(empty_database_url, directory)
    assert applied == [] and len(pending) == len(migrate.discover())
    migrate.upgrade(empty_database_url, directory, log=lambda line: None)
    (directory / "9999_extra.sql").write_text("CREATE TABLE extra (id int);")
    applied, pending = migrate.status(empty_database_url, directory)
    assert [m.name for m in pending] == ["extra"]
    assert len(applied) == len(migrate.discover())


def test_edited_applied_file_is_refused(empty_database_url, tmp_path):
    directory = _copy_migrations(tmp_path)
    migrate.upgrade(empty_database_url, directory, log=lambda line: None)
    first = sorted(directory.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    (directory / "9999_extra.sql").write_text("CREATE TABLE extra (id int);")
    with pytest.raises(migrate.MigrationError, match="edited"):
        migrate.upgrade(empty_database_url, directory, log=lambda line: None)
    # Nothing pending was applied either.
    assert "9999" not in applied_versions(empty_database_url)


def test_failing_migration_rolls_back_entirely(empty_database_url, tmp_path):
    directory = _copy_migrations(tmp_path)
    (directory / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;")
    with pytest.raises(psycopg2.errors.UndefinedTable):
        migrate.upgrade(empty_database_url, directory, log=lambda line: None)
    conn = psycopg2.connect(empty_database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('half_done')")
            assert cur.fetchone()[0] is None
    finally:
        conn.close()
    assert "9999" not in applied_versions(empty_database_url)


def test_badly_named_file_is_refused(tmp_path):
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(migrate.MigrationError, match="NNNN"):
        migrate.discover(tmp_path)


def test_concurrent_upgrades_apply_each_migration_once(empty_database_url):
    results, errors = [], []

    def run():
        try:
            results.append(migrate.upgrade(empty_database_url, log=lambda line: None))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    applied_lists = [r for r in results if r]
    assert len(applied_lists) == 1, "exactly one process applies, the others find nothing pending"
    assert applied_versions(empty_database_url) == [m.version for m in migrate.discover()]


def test_cli_upgrade_and_status(runner, empty_database_url, app):
    app.config["DATABASE_URL"] = empty_database_url
    result = runner.invoke(args=["db", "status"])
    assert "pending  0001_schema.sql" in result.output
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "applying 0001_schema.sql" in result.output
    result = runner.invoke(args=["db", "status"])
    assert "applied  0001_schema" in result.output and "pending" not in result.output

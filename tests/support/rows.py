"""Read back what the API wrote: row counts, the audit trail, process ids, the dashboard from base tables."""

import psycopg2.extras
from psycopg2 import sql

from apps.api.db import Queries

dashboard_queries = Queries("dashboard.sql")


def count(db, table):
    """Return the number of rows in `table`."""
    with db.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        return cur.fetchone()[0]


def audit_rows(db, entity=None):
    """Return (user_id, action, entity, entity_id, changes) of every audit row (of `entity`), oldest first."""
    with db.cursor() as cur:
        cur.execute("SELECT user_id, action, entity, entity_id, changes FROM audit_logs "
                    "WHERE %(entity)s::text IS NULL OR entity = %(entity)s ORDER BY id", {"entity": entity})
        return cur.fetchall()


def process_ids(db):
    """Return {process code: id}."""
    with db.cursor() as cur:
        cur.execute("SELECT code, id FROM processes")
        return dict(cur.fetchall())


def naive_stats(db, user_id):
    """Return the stats computed straight from the base tables (the query the counters replace)."""
    with db.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(dashboard_queries.get_stats_naive, {"user_id": user_id})
        return dict(cur.fetchone())

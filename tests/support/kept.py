"""Connections to a test database kept for the whole run, one per purpose (the `db` fixture, the auth helper,
the reset): a new connection per test cost a backend start each, over a thousand per run.

A connection goes back as a new one would come: no transaction, autocommit, no session state (DISCARD ALL
drops settings, advisory locks, LISTENs and temporary tables). One that broke (a test restarted the server or
ended backends) is replaced on the next handout.
"""
import psycopg2

_kept = {}


def kept_connection(url, purpose, check=True):
    """Return the autocommit connection to `url` kept for `purpose`, opening it (again) when needed.

    `check` pings it first; a caller that retries on OperationalError itself can skip that round trip.
    """
    conn = _kept.get((url, purpose))
    if conn is not None and not conn.closed and check:
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        except psycopg2.Error:
            conn.close()
    if conn is None or conn.closed:
        conn = _kept[(url, purpose)] = psycopg2.connect(url, application_name=f"printshop-tests-{purpose}")
        conn.autocommit = True
    return conn


def tidy(conn):
    """Put a handed-out connection back as a new one would be; close it when it cannot be."""
    if conn.closed:
        return
    try:
        if not conn.autocommit:
            conn.rollback()
            conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("DISCARD ALL")
    except psycopg2.Error:
        conn.close()


def discard(url, purpose):
    """Close the connection kept for `purpose` (a later handout opens another)."""
    conn = _kept.pop((url, purpose), None)
    if conn is not None:
        conn.close()


def close_kept_connections():
    """Close every kept connection (before a database is dropped or used as a template)."""
    while _kept:
        _kept.popitem()[1].close()

"""What the per-transaction settings cost: `SET LOCAL` batched with the first statement (db.cursor),
in a round trip of its own (db.connection), against a bare connection with startup `options` (what
PgBouncer refuses). Run: .venv/bin/python -m bench.transaction_settings
"""
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

os.environ["APP_ENV"] = "test"

import psycopg2

from apps.api import close_resources, db
from apps.api.tools.embedded_pg import EmbeddedPostgres
from tests.support.apps import build_app

TRANSACTIONS = 3000
STARTUP_OPTIONS = "-c statement_timeout=25000 -c idle_in_transaction_session_timeout=30000 -c timezone=UTC"


def per_transaction_us(run, repeats=5):
    """Return the median microseconds per call of `run` over `repeats` rounds of TRANSACTIONS calls."""
    rounds = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(TRANSACTIONS):
            run()
        rounds.append((time.perf_counter() - started) / TRANSACTIONS * 1e6)
    return round(statistics.median(rounds), 1)


def main():
    work = tempfile.mkdtemp(prefix="printshop-bench-settings-")
    server = EmbeddedPostgres(Path(work) / "data", fast=True).start()
    app, bare = build_app(server.url()), psycopg2.connect(server.url(), options=STARTUP_OPTIONS)
    try:
        def startup_options():
            with bare, bare.cursor() as cur:
                cur.execute("SELECT 1")

        def batched_with_first_statement():
            with db.cursor() as cur:
                cur.execute("SELECT 1")

        def own_round_trip():
            with db.connection() as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")

        with app.app_context():
            runs = (startup_options, batched_with_first_statement, own_round_trip)
            print({run.__name__: per_transaction_us(run) for run in runs}, "µs per transaction (SELECT 1)")
    finally:
        bare.close()
        close_resources(app)
        server.stop(mode="immediate")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

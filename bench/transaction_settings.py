"""What the per-transaction settings cost: `SET LOCAL` batched with the first statement (db.cursor),
in a round trip of its own (db.connection), against a bare connection with startup `options`
(what PgBouncer refuses). Run: .venv/bin/python bench/transaction_settings.py
"""
import os
import statistics
import sys
import tempfile
import time
os.environ["APP_ENV"] = "test"
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
import psycopg2
from apps.api.tools.embedded_pg import EmbeddedPostgres
from apps.api import db
from tests.support.apps import build_app
d = tempfile.mkdtemp(prefix="printshop-bench-settings-")
pg = EmbeddedPostgres(d + "/data", fast=True).start()
url = pg.url()
app = build_app(url)
N = 3000
def timed(fn):
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(N): fn()
        runs.append((time.perf_counter() - t) / N * 1e6)
    return statistics.median(runs)
old = psycopg2.connect(url, options="-c statement_timeout=25000 -c idle_in_transaction_session_timeout=30000 -c timezone=UTC")
def startup_options():
    with old, old.cursor() as cur: cur.execute("SELECT 1")
with app.app_context():
    def batched():
        with db.cursor() as cur: cur.execute("SELECT 1")
    def own_round_trip():
        with db.connection() as conn, conn.cursor() as cur: cur.execute("SELECT 1")
    for f in (startup_options, batched, own_round_trip):
        f()
    print({f.__name__: round(timed(f), 1) for f in (startup_options, batched, own_round_trip)}, "µs per transaction (median of 5 x", N, ")")
from apps.api import close_resources
close_resources(app); old.close(); pg.stop(mode="immediate")

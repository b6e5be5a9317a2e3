"""The retention pass deletes idempotency keys past their 24 hours and keeps the live ones."""
import psycopg2

from apps.api.ops.retention import RetentionSettings, run_pass
from tests.support.rows import count


def test_expired_keys_go_and_live_ones_stay(client, auth, db, database_url, tmp_path):
    for key in ("old", "new"):
        headers = dict(auth.headers("manager"), **{"Idempotency-Key": key})
        assert client.post("/api/customers", json={"name": f"Oak {key}"}, headers=headers).status_code == 201
    with db.cursor() as cur:
        cur.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 minute' WHERE key = 'old'")
    conn = psycopg2.connect(database_url)
    try:
        report = run_pass(conn, RetentionSettings(audit_days=0, archive_dir=str(tmp_path)))
    finally:
        conn.close()
    assert report.deleted["idempotency_keys"] == 1
    with db.cursor() as cur:
        cur.execute("SELECT key FROM idempotency_keys")
        assert [row[0] for row in cur.fetchall()] == ["new"]
    # The expired key is free again: the same request creates anew instead of replaying.
    headers = dict(auth.headers("manager"), **{"Idempotency-Key": "old"})
    again = client.post("/api/customers", json={"name": "Oak old"}, headers=headers)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count(db, "customers") == 3

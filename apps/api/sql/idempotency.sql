-- Idempotency keys (web/idempotency.py, migration 0100): one row per (user, key), written in the
-- transaction of the creation it answers for.

-- name: claim-key
-- Take (user, key) for this request, or a key whose 24 hours are over; answer nothing when a live row holds
-- it. A concurrent holder makes this wait for its commit or rollback (the primary key), never a second row.
INSERT INTO idempotency_keys AS k (user_id, key, fingerprint, expires_at)
VALUES (%(user_id)s, %(key)s, %(fingerprint)s, now() + make_interval(hours => %(hours)s))
ON CONFLICT (user_id, key) DO UPDATE
SET fingerprint = excluded.fingerprint, status = NULL, body = NULL, headers = '{}',
    created_at = now(), expires_at = excluded.expires_at
WHERE k.expires_at <= now()
RETURNING 1 AS claimed;

-- name: get-key
-- The kept answer of (user, key): its request's fingerprint, status, body and headers.
SELECT fingerprint, status, body, headers
FROM idempotency_keys
WHERE user_id = %(user_id)s AND key = %(key)s;

-- name: keep-answer
-- Keep the first answer to (user, key), in the transaction that made it.
UPDATE idempotency_keys
SET status = %(status)s, body = %(body)s, headers = %(headers)s
WHERE user_id = %(user_id)s AND key = %(key)s;

-- name: release-key
-- Let go of (user, key) after an answer that is not a success, so that a retry runs again.
DELETE FROM idempotency_keys WHERE user_id = %(user_id)s AND key = %(key)s;

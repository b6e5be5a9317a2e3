-- Idempotency-Key on creating POSTs (issue 25): the first answer to (user, key) is kept for 24 hours, so a
-- double click, a retry after a timeout or a replayed outbox write creates one thing and answers it again.
-- The row is written in the same transaction as what it creates: a concurrent request with the same key
-- waits on the primary key and then reads the committed answer (or, when the first rolled back, claims it).
CREATE TABLE idempotency_keys (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- HMAC of method, path and canonical body: the same key with another request is a 422.
    fingerprint text NOT NULL,
    status smallint,
    body text,
    headers jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
-- The retention pass deletes expired keys oldest first.
CREATE INDEX idx_idempotency_keys_expires_at ON idempotency_keys (expires_at);

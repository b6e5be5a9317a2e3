-- Retention (ops/retention.py): old rows go in small batches, old audit months as whole partitions.
-- A days value of 0 keeps everything: make_interval(days => 0) would be "now", so those statements are
-- never run with it.

-- name: purge-failed-logins
-- Delete one batch of failed logins older than the limit, oldest first (idx_failed_logins_attempted_at).
WITH old AS (
    SELECT id FROM failed_logins
    WHERE attempted_at < now() - make_interval(days => %(days)s)
    ORDER BY attempted_at, id
    LIMIT %(batch)s
)
DELETE FROM failed_logins f USING old WHERE f.id = old.id;

-- name: purge-read-notifications
-- Delete one batch of read notifications older than the limit (idx_notifications_read_created); unread stay.
WITH old AS (
    SELECT id FROM notifications
    WHERE is_read AND created_at < now() - make_interval(days => %(days)s)
    ORDER BY created_at
    LIMIT %(batch)s
)
DELETE FROM notifications n USING old WHERE n.id = old.id;

-- name: purge-default-audit-logs
-- Delete one batch of old audit rows from the default partition (rows no month partition covered).
WITH old AS (
    SELECT id, created_at FROM audit_logs_default
    WHERE created_at < now() - make_interval(days => %(days)s)
    LIMIT %(batch)s
)
DELETE FROM audit_logs_default a USING old WHERE a.id = old.id AND a.created_at = old.created_at;

-- name: add-audit-month
-- Create the audit partition of the month `at` falls in, unless one covers it; answer its name or NULL.
SELECT audit_logs_add_month(%(at)s::timestamptz) AS created;

-- name: list-expired-audit-partitions
-- The audit partitions whose every possible row is older than the limit, oldest first (never the default).
SELECT c.relname AS name
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'audit_logs'::regclass
  AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM %%'
  AND substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([^'']+)''\)')::timestamptz
      <= now() - make_interval(days => %(days)s)
ORDER BY c.relname;

-- name: list-detached-audit-partitions
-- Audit months detached by an earlier pass whose export or drop did not finish.
SELECT c.relname AS name
FROM pg_class c
WHERE c.relkind = 'r' AND NOT c.relispartition
  AND c.relnamespace = 'public'::regnamespace
  AND (c.relname ~ '^audit_logs_\d{4}_\d{2}$' OR c.relname = 'audit_logs_legacy')
ORDER BY c.relname;

-- name: set-lock-timeout
-- DDL on the audit log waits at most this long for its lock, so requests never queue behind it.
SET LOCAL lock_timeout = %(lock_timeout)s;

-- name: purge-expired-idempotency-keys
-- Delete one batch of idempotency keys past their 24 hours (idx_idempotency_keys_expires_at); `days` unused.
WITH old AS (
    SELECT user_id, key FROM idempotency_keys
    WHERE expires_at < now()
    ORDER BY expires_at
    LIMIT %(batch)s
)
DELETE FROM idempotency_keys k USING old WHERE k.user_id = old.user_id AND k.key = old.key;

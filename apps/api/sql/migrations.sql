-- The migration runner's own statements (db/migrate.py), on one autocommit session.

-- name: create-schema-migrations
-- The record of applied migrations (made on first use).
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: list-applied
-- Every applied migration, in version order.
SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version;

-- name: set-lock-timeout
-- Every later wait for a lock gives way after this long (the session's setting).
SELECT set_config('lock_timeout', %(lock_timeout)s, false);

-- name: try-advisory-lock
-- Take the migrations' session lock if free (polled: never blocked in pg_advisory_lock()).
SELECT pg_try_advisory_lock(%(key)s);

-- name: advisory-unlock
SELECT pg_advisory_unlock(%(key)s);

-- name: begin
BEGIN;

-- name: commit
COMMIT;

-- name: rollback
ROLLBACK;

-- name: list-invalid-indexes
-- The (schema, name) of every index of this database that cannot serve queries.
SELECT n.nspname, c.relname
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid;

-- name: record-migration
INSERT INTO schema_migrations (version, name, checksum) VALUES (%(version)s, %(name)s, %(checksum)s);

-- name: advisory-lock-holder
-- The backend that holds the migrations' advisory lock (for the error of a runner that gave up waiting).
SELECT pid FROM pg_locks
WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = %(key)s;

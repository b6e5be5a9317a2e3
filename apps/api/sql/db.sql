-- What the database package itself asks: per-transaction settings, replica and primary positions.

-- name: set-transaction-settings
-- The per-transaction settings (transaction pooling keeps no session state), sent with the first statement.
SET LOCAL statement_timeout = %(statement_timeout)s;
SET LOCAL idle_in_transaction_session_timeout = %(idle_timeout)s;
SET LOCAL timezone = 'UTC';

-- name: notify-write
-- Tell every worker of every instance that this user wrote (delivered at commit): their reads stay on
-- the primary until a replica has replayed past it.
SELECT pg_notify('printshop_writes', %(user_id)s);

-- name: get-primary-position
-- The primary's WAL position now, as a number of bytes.
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS position;

-- name: get-replica-position
-- Whether this server is a standby and how far it has replayed, as a number of bytes.
SELECT pg_is_in_recovery() AS in_recovery,
       pg_wal_lsn_diff(coalesce(pg_last_wal_replay_lsn(), '0/0'), '0/0')::bigint AS position;

-- name: set-session-timeouts
-- A direct session connection's own bounds (the overdue scheduler's): no statement or idle transaction
-- may hold it, and the advisory lock it keeps, for longer.
SET statement_timeout = %(statement_timeout)s;
SET idle_in_transaction_session_timeout = %(idle_timeout)s;

-- name: ping
-- One round trip: the connection answers (and, in a transaction, its settings go with it).
SELECT 1;

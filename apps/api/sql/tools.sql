-- The command-line tools' own questions about a database (tools/boot.py, tools/backup.py).

-- name: has-users
-- Whether any user exists (development boot seeds the demo users into an empty database).
SELECT EXISTS (SELECT 1 FROM users);

-- name: count-user-tables
-- How many tables the database holds outside the system schemas (a restore goes into an empty one).
SELECT count(*)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');

-- name: set-scram-iterations
-- The cost of the embedded server's password hashes (tools/embedded_auth.py).
SET scram_iterations = %(iterations)s;

-- name: reload-configuration
SELECT pg_reload_conf();

-- name: database-exists
SELECT 1 FROM pg_database WHERE datname = %(name)s;

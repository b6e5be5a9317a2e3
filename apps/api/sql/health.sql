-- Readiness and database health: what the probe connection and /api/health/db/test ask.

-- name: check-ready
-- The cheapest round trip: the server answers.
SELECT 1;

-- name: get-server-limits
-- The server's version and connection limits, for the pool's capacity recommendations.
SELECT current_setting('server_version') AS server_version,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS reserved_connections,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections;

-- name: get-server-version
-- A real round trip through a pooled connection.
SELECT current_setting('server_version') AS server_version;

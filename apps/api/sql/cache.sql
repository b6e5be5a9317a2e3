-- The cache's coherence channel: the database triggers (migrations/0003) and POST /api/health/cache/clear
-- notify 'cache_invalidate' with a cache key prefix ('' for everything); every worker listens.

-- name: listen
-- Receive the invalidations of every writer on this database.
LISTEN cache_invalidate;

-- name: notify-invalidate
-- Ask every worker of every instance to drop the entries whose key starts with the prefix (delivered at commit).
SELECT pg_notify('cache_invalidate', %(prefix)s);

-- name: ping
-- Prove an idle listening connection still answers.
SELECT 1;

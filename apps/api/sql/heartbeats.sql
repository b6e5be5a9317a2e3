-- The fleet's heartbeats (migrations/0030): one row per live worker of every instance.

-- name: publish-heartbeat
-- Record this worker's statistics now.
INSERT INTO worker_heartbeats AS h (instance, pid, seen_at, started_at, db_stats, cache_stats)
VALUES (%(instance)s, %(pid)s, now(), %(started_at)s, %(db_stats)s, %(cache_stats)s)
ON CONFLICT (instance, pid) DO UPDATE
SET seen_at = now(), db_stats = excluded.db_stats, cache_stats = excluded.cache_stats;

-- name: forget-stale-workers
-- Workers silent for this many seconds are gone (killed, or their instance stopped).
DELETE FROM worker_heartbeats WHERE seen_at < now() - make_interval(secs => %(stale_seconds)s);

-- name: forget-worker
-- A worker that exits says so.
DELETE FROM worker_heartbeats WHERE instance = %(instance)s AND pid = %(pid)s;

-- name: list-live-workers
-- Every worker heard from lately, oldest instance first.
SELECT instance, pid, seen_at, started_at, db_stats, cache_stats,
       round(extract(epoch FROM now() - seen_at)::numeric, 3)::float AS age_s
FROM worker_heartbeats
WHERE seen_at >= now() - make_interval(secs => %(stale_seconds)s)
ORDER BY instance, pid;

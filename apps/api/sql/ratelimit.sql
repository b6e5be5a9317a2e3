-- Rate-limit counters (fixed windows) shared through PostgreSQL.

-- name: hit-bucket
-- Count one hit in the current window of a bucket; answer the hits so far and the window's end.
INSERT INTO rate_limits AS r (bucket, window_start, hits)
VALUES (%(bucket)s, to_timestamp(floor(extract(epoch FROM now()) / %(window)s) * %(window)s), 1)
ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
RETURNING hits, extract(epoch FROM r.window_start + make_interval(secs => %(window)s) - now()) AS seconds_left;

-- name: purge-old-windows
-- Windows older than a day count for nothing.
DELETE FROM rate_limits WHERE window_start < now() - interval '1 day';

-- Every worker of every instance publishes its pool and cache statistics here every few seconds, so
-- /api/health/db?scope=all and /api/health/cache?scope=all can report the whole fleet. UNLOGGED: the
-- rows are seconds old by nature, need no WAL, and nobody misses them after a crash.
CREATE UNLOGGED TABLE worker_heartbeats (
    instance   text        NOT NULL,
    pid        integer     NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz NOT NULL,
    db_stats   jsonb       NOT NULL,
    cache_stats jsonb,
    PRIMARY KEY (instance, pid)
);

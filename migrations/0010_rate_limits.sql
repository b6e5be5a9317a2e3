-- Fixed-window rate-limit counters shared by every worker and instance.
-- UNLOGGED: no WAL for a hot, disposable table; after a crash the counters simply start over.

CREATE UNLOGGED TABLE rate_limits (
    bucket       text NOT NULL CHECK (length(bucket) BETWEEN 1 AND 300),
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL DEFAULT 1 CHECK (hits > 0),
    PRIMARY KEY (bucket, window_start)
);

-- Purging old windows.
CREATE INDEX idx_rate_limits_window_start ON rate_limits (window_start);

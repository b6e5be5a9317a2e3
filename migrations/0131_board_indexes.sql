-- no-transaction
-- The wall board reads every running step (newest start first) and today's completed steps: two small
-- partial indexes, built without blocking writers.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_job_steps_running ON job_steps (started_at DESC, id DESC)
    WHERE status = 'in_progress';
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_job_steps_completed_at ON job_steps (completed_at DESC, id DESC)
    WHERE status = 'completed';

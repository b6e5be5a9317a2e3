-- no-transaction
-- GET /api/reports/step-times sums the paused seconds per reason of the completed steps in its range: this
-- index holds only the steps that were ever paused, so that sum reads those rows alone (the medians read
-- idx_job_steps_finished, migration 0110). Built concurrently: writers keep writing meanwhile.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_job_steps_finished_paused ON job_steps (completed_at)
    INCLUDE (process_id, machine_id, assigned_to, paused_by_reason)
    WHERE status = 'completed' AND paused_by_reason IS NOT NULL;

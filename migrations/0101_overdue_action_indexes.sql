-- no-transaction
-- GET /api/dashboard/overdue-jobs (issue 25): the overdue jobs that need action, most urgent first, then
-- most recently due, and the overdue jobs on hold apart, in the same order. Each list is a partial index of
-- the open jobs of its statuses in exactly that order, so a page is the first entries whose due date is past
-- (an index condition) and its count an index-only scan of them. Built concurrently: writers keep writing.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_jobs_overdue_action
    ON jobs ((job_priority_rank(priority)) DESC, due_date DESC, id DESC)
    WHERE status IN ('draft', 'active', 'in_progress');
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_jobs_overdue_on_hold
    ON jobs ((job_priority_rank(priority)) DESC, due_date DESC, id DESC)
    WHERE status = 'on_hold';

-- Lists that grew with the table (issue 22).
-- GET /api/jobs?overdue=true: the open jobs newest first, with the due date in the index so that an
-- index-only scan passes the open jobs not yet due without reading the table. Its size is the open
-- jobs, not all jobs. (A job number is looked up by the UNIQUE constraint's index: no new index.)
CREATE INDEX idx_jobs_open_created_at ON jobs (created_at, id) INCLUDE (due_date)
    WHERE status NOT IN ('completed', 'cancelled');

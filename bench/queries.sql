-- Statements only the benchmark runs: the naive twins of what the service does.

-- name: stats-jobs
-- The report's query 1 of 4: job counts over the base table.
SELECT count(*) FILTER (WHERE status = 'draft') AS draft,
       count(*) FILTER (WHERE status = 'active') AS active,
       count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE status = 'on_hold') AS on_hold,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) AS total,
       count(*) FILTER (WHERE job_is_overdue(status, due_date)) AS overdue
FROM jobs;

-- name: stats-tasks
-- The report's query 2 of 4: one operator's steps over the base table.
SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE status = 'completed') AS completed
FROM job_steps WHERE assigned_to = %(user_id)s;

-- name: stats-machines
-- The report's query 3 of 4.
SELECT count(*) FILTER (WHERE status = 'active') AS active,
       count(*) FILTER (WHERE status = 'idle') AS idle,
       count(*) FILTER (WHERE status = 'maintenance') AS maintenance,
       count(*) FILTER (WHERE status = 'offline') AS offline
FROM machines WHERE is_active;

-- name: stats-users
-- The report's query 4 of 4.
SELECT count(*) FILTER (WHERE role = 'admin') AS admins,
       count(*) FILTER (WHERE role = 'manager') AS managers,
       count(*) FILTER (WHERE role = 'operator') AS operators,
       count(*) FILTER (WHERE role = 'viewer') AS viewers,
       count(*) FILTER (WHERE is_active) AS active
FROM users;

-- name: jobs-by-month-naive
-- The month chart straight from jobs: group the rows of the window, months without jobs as 0.
SELECT m.month::date AS month, coalesce(c.n, 0) AS n
FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m (month)
LEFT JOIN (
    SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month, count(*) AS n
    FROM jobs
    WHERE created_at >= %(first)s::date AT TIME ZONE 'UTC'
    GROUP BY 1
) c ON c.month = m.month
ORDER BY m.month;

-- name: jobs-by-status-page
-- GET /api/jobs?status=on_hold: one page, newest first.
SELECT id, job_number, title, created_at FROM jobs
WHERE status = %(status)s ORDER BY created_at DESC LIMIT 20;

-- name: overdue-jobs-page
-- GET /api/jobs?overdue=true: one page of open jobs past their due date.
SELECT id, job_number, due_date FROM jobs
WHERE job_is_overdue(status, due_date)
ORDER BY due_date LIMIT 20;

-- name: operator-open-steps
-- An operator's open steps (their work list), up to 50.
SELECT id, job_id, step_order, status FROM job_steps
WHERE assigned_to = %(user_id)s AND status IN ('pending', 'in_progress')
LIMIT 50;

-- name: drop-search-trigram-indexes
-- Scratch (rolled back): no index serves the customer search.
DROP INDEX idx_customers_name_trgm, idx_customers_email_trgm, idx_customers_phone_trgm;

-- name: create-search-btree-indexes
-- Scratch (rolled back): plain btree indexes, as the report created them.
CREATE INDEX bench_customers_name_btree ON customers (name text_pattern_ops);
CREATE INDEX bench_customers_email_btree ON customers (email text_pattern_ops);
CREATE INDEX bench_customers_phone_btree ON customers (phone text_pattern_ops);

-- name: drop-job-indexes
-- Scratch (rolled back): the jobs and steps indexes of migrations/0002_indexes.sql.
DROP INDEX idx_jobs_status_created_at, idx_jobs_open_due_date, idx_jobs_due_date, idx_jobs_created_at,
           idx_job_steps_assigned_status;

-- name: my-steps-naive
-- GET /api/me/steps without the job's urgency copied onto its steps (migration 0040): join every step of
-- the operator to its job, then sort them all for one page.
SELECT st.id, st.job_id, st.step_order, st.status, j.job_number, j.title, j.priority, j.due_date
FROM job_steps st
JOIN jobs j ON j.id = st.job_id
WHERE st.assigned_to = %(user_id)s
ORDER BY CASE st.status WHEN 'in_progress' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END,
         CASE j.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
         j.due_date, st.job_id, st.step_order
LIMIT %(limit)s OFFSET %(offset)s;

-- The dashboard: counts from the counter tables the triggers of migrations/0003 keep, so no statement
-- here grows with the number of jobs or steps; machines and users are small and counted directly.

-- name: get-stats
-- Every count of GET /api/dashboard/stats in one statement; today is the database's (today_utc(), migration 0060).
WITH job_counts AS (
    SELECT jsonb_object_agg(status, n) AS counts FROM dashboard_counts WHERE counter = 'job_status'
), overdue AS (
    -- Open jobs with a due date minus those due today or later: rows of the days ahead only.
    SELECT coalesce((SELECT sum(n) FROM dashboard_counts
                     WHERE counter = 'open_due' AND status = 'total' AND day = '-infinity' AND user_id = 0), 0)
         - coalesce((SELECT sum(n) FROM dashboard_counts
                     WHERE counter = 'open_due' AND status = '' AND day >= today_utc()), 0) AS n
), task_counts AS (
    SELECT jsonb_object_agg(status, n) AS counts FROM dashboard_counts
    WHERE counter = 'step' AND user_id = %(user_id)s
), machine_counts AS (
    SELECT jsonb_object_agg(status, n) AS counts
    FROM (SELECT status, count(*) AS n FROM machines WHERE is_active GROUP BY status) m
), user_counts AS (
    SELECT count(*) FILTER (WHERE role = 'admin') AS admins,
           count(*) FILTER (WHERE role = 'manager') AS managers,
           count(*) FILTER (WHERE role = 'operator') AS operators,
           count(*) FILTER (WHERE role = 'viewer') AS viewers,
           count(*) FILTER (WHERE is_active) AS active
    FROM users WHERE deleted_at IS NULL
)
SELECT job_counts.counts AS jobs, overdue.n AS overdue, task_counts.counts AS tasks,
       machine_counts.counts AS machines, to_jsonb(user_counts) AS users
FROM job_counts, overdue, task_counts, machine_counts, user_counts;

-- name: get-stats-naive
-- The same numbers straight from the base tables: one CTE of COUNT(*) FILTER over jobs and job_steps.
-- Not served; the benchmark measures it and the tests compare the counters with it.
WITH job_counts AS (
    SELECT count(*) FILTER (WHERE status = 'draft') AS draft,
           count(*) FILTER (WHERE status = 'active') AS active,
           count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE status = 'on_hold') AS on_hold,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
           count(*) AS total,
           count(*) FILTER (WHERE job_is_overdue(status, due_date)) AS overdue
    FROM jobs
), task_counts AS (
    SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
           count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE status = 'paused') AS paused,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'skipped') AS skipped
    FROM job_steps WHERE assigned_to = %(user_id)s
), machine_counts AS (
    SELECT count(*) FILTER (WHERE status = 'active') AS active,
           count(*) FILTER (WHERE status = 'idle') AS idle,
           count(*) FILTER (WHERE status = 'maintenance') AS maintenance,
           count(*) FILTER (WHERE status = 'offline') AS offline
    FROM machines WHERE is_active
), user_counts AS (
    SELECT count(*) FILTER (WHERE role = 'admin') AS admins,
           count(*) FILTER (WHERE role = 'manager') AS managers,
           count(*) FILTER (WHERE role = 'operator') AS operators,
           count(*) FILTER (WHERE role = 'viewer') AS viewers,
           count(*) FILTER (WHERE is_active) AS active
    FROM users WHERE deleted_at IS NULL
)
SELECT to_jsonb(job_counts) AS jobs, to_jsonb(task_counts) AS tasks,
       to_jsonb(machine_counts) AS machines, to_jsonb(user_counts) AS users
FROM job_counts, task_counts, machine_counts, user_counts;

-- name: list-recent-jobs
-- The newest jobs with their customer's name (idx_jobs_created_at: a short index scan, whatever the size).
SELECT j.id, j.job_number, j.title, j.status, c.name AS customer_name, j.due_date, j.created_at
FROM jobs j
JOIN customers c ON c.id = j.customer_id
ORDER BY j.created_at DESC, j.id DESC
LIMIT %(limit)s;

-- name: count-jobs-by-status
-- Jobs per status, from the counters.
SELECT status, n FROM dashboard_counts WHERE counter = 'job_status';

-- name: count-jobs-by-month
-- Jobs created in each of the last %(months)s months up to today's (UTC, the database's clock), oldest first,
-- 0 for a month without jobs.
SELECT m.month::date AS month, coalesce(c.n, 0) AS n
FROM generate_series(date_trunc('month', today_utc()::timestamp) - make_interval(months => %(months)s - 1),
                     date_trunc('month', today_utc()::timestamp), interval '1 month') AS m (month)
LEFT JOIN dashboard_counts c
       ON c.counter = 'job_month' AND c.status = '' AND c.day = m.month::date AND c.user_id = 0
ORDER BY m.month;

-- name: list-counter-drift
-- Counters that disagree with a recount from the base tables (see the dashboard_counter_drift view).
SELECT counter, status, day, user_id, expected, actual
FROM dashboard_counter_drift
ORDER BY counter, status, day, user_id;

-- name: rebuild-counters
-- Recount every counter from the base tables (writers wait meanwhile); returns how many were wrong.
SELECT dashboard_rebuild_counters() AS wrong;

-- name: list-overdue-jobs
-- The overdue jobs (job_is_overdue(), migration 0060) of one kind, first `limit`: needing action (draft,
-- active, in progress) or on hold. Most urgent first, then the most recently due: what is still
-- rescuable today. Served by idx_jobs_overdue_action / idx_jobs_overdue_on_hold (migration 0101).
SELECT j.id, j.job_number, j.title, j.status, j.priority, c.name AS customer_name, j.due_date,
       today_utc() - j.due_date AS days_overdue
FROM jobs j
JOIN customers c ON c.id = j.customer_id
WHERE job_is_overdue(j.status, j.due_date)
  AND ((%(on_hold)s AND j.status = 'on_hold')
       OR (NOT %(on_hold)s AND j.status IN ('draft', 'active', 'in_progress')))
ORDER BY job_priority_rank(j.priority) DESC, j.due_date DESC, j.id DESC
LIMIT %(limit)s;

-- name: count-overdue-jobs
-- How many overdue jobs need action and how many are on hold (index-only scans of the same indexes).
SELECT (SELECT count(*) FROM jobs j
        WHERE job_is_overdue(j.status, j.due_date) AND j.status IN ('draft', 'active', 'in_progress'))
           AS needs_action,
       (SELECT count(*) FROM jobs j WHERE job_is_overdue(j.status, j.due_date) AND j.status = 'on_hold')
           AS on_hold;

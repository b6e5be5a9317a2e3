-- Overdue jobs (job_is_overdue(), migration 0060: open, due before today in UTC), announced once per
-- due date to their step assignees and the managers (active users only). See overdue.py.

-- name: try-lead
-- Become this database's overdue scheduler unless another session is (held until the connection closes).
SELECT pg_try_advisory_lock(%(key)s);

-- name: notify-overdue-jobs
-- Record the newly overdue jobs and notify their people in one statement; answer how many notifications.
-- ON CONFLICT makes a concurrent sweep skip the jobs this one took. Served by idx_jobs_open_due_date.
WITH late AS (
    INSERT INTO overdue_notices (job_id, due_date)
    SELECT j.id, j.due_date
    FROM jobs j
    WHERE job_is_overdue(j.status, j.due_date)
    ON CONFLICT (job_id, due_date) DO NOTHING
    RETURNING job_id
), people AS (
    SELECT st.job_id, st.assigned_to AS user_id
    FROM job_steps st JOIN late ON late.job_id = st.job_id
    WHERE st.assigned_to IS NOT NULL
    UNION
    SELECT late.job_id, u.id FROM late CROSS JOIN users u WHERE u.role = 'manager'
), sent AS (
    INSERT INTO notifications (user_id, kind, message, job_id)
    SELECT p.user_id, 'job_overdue',
           left(j.job_number || ': ' || j.title || ' is overdue (due ' || j.due_date || ')', 1000), j.id
    FROM people p
    JOIN jobs j ON j.id = p.job_id
    JOIN users u ON u.id = p.user_id AND u.is_active
    RETURNING 1
)
SELECT count(*) FROM sent;

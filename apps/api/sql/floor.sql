-- What the floor's devices read: the wall board's feed and a tablet's operators.

-- name: board-machines
-- Every active machine, by name.
SELECT id, name, status FROM machines WHERE is_active ORDER BY name, id;

-- name: board-running
-- Every running step with its job and operator, newest start first.
SELECT st.id AS step_id, st.job_id, j.job_number, j.title, st.name AS step_name, st.machine_id,
       st.started_at, j.due_date, j.priority, u.full_name AS operator_name, u.username AS operator_username,
       coalesce(job_is_overdue(j.status, j.due_date), false) AS late
FROM job_steps st
JOIN jobs j ON j.id = st.job_id
LEFT JOIN users u ON u.id = st.assigned_to
WHERE st.status = 'in_progress'
ORDER BY st.started_at DESC, st.id DESC
LIMIT %(limit)s;

-- name: board-next
-- Each machine's next waiting steps (of jobs still open), most urgent first: the machine queue's order.
SELECT step_id, job_id, job_number, title, step_name, machine_id, due_date, priority, late
FROM (
    SELECT st.id AS step_id, st.job_id, j.job_number, j.title, st.name AS step_name, st.machine_id,
           j.due_date, j.priority, coalesce(job_is_overdue(j.status, j.due_date), false) AS late,
           row_number() OVER (PARTITION BY st.machine_id ORDER BY
               CASE j.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END,
               j.due_date NULLS LAST, st.job_id, st.step_order) AS place
    FROM job_steps st
    JOIN jobs j ON j.id = st.job_id
    WHERE st.status = 'pending' AND st.machine_id IS NOT NULL
      AND j.status IN ('draft', 'active', 'in_progress')
) waiting
WHERE place <= %(per_machine)s
ORDER BY machine_id, place;

-- name: board-late
-- How many open jobs are past their due date.
SELECT count(*) AS late FROM jobs WHERE job_is_overdue(status, due_date);

-- name: board-done-today
-- Steps completed since midnight UTC (the overdue rule's day), newest first, and how many.
SELECT st.id AS step_id, j.job_number, j.title, st.name AS step_name, st.completed_at,
       count(*) OVER () AS total
FROM job_steps st
JOIN jobs j ON j.id = st.job_id
WHERE st.status = 'completed' AND st.completed_at >= today_utc()::timestamp AT TIME ZONE 'UTC'
ORDER BY st.completed_at DESC, st.id DESC
LIMIT %(limit)s;

-- name: tablet-machine
-- The tablet's machine, when it is bound to one.
SELECT id, name FROM machines WHERE id = %(machine_id)s;

-- name: tablet-operators
-- The people who may sign in on a tablet (active, operator or above, with a PIN): those with work waiting on
-- the tablet's machine first, then by name.
SELECT u.id, u.username, u.full_name,
       EXISTS (SELECT 1 FROM job_steps st WHERE st.assigned_to = u.id AND st.machine_id = %(machine_id)s
               AND st.status IN ('pending', 'in_progress')) AS has_work_here
FROM users u
WHERE u.is_active AND u.pin_hash IS NOT NULL AND u.role IN ('operator', 'manager', 'admin')
ORDER BY has_work_here DESC, lower(coalesce(nullif(u.full_name, ''), u.username)), u.id
LIMIT 200;

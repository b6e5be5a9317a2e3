-- Job steps: one production process of a job, started, completed or skipped by an operator.
-- Every step change locks its job row first, so concurrent changes of one job's steps serialize
-- and the job's automatic transitions (in_progress, completed) are never lost.

-- name: match-job-steps
-- A job's steps, for the count.
SELECT 1 FROM job_steps WHERE job_id = %(job_id)s;

-- name: list-job-steps
-- One page of a job's steps in order.
SELECT id, job_id, step_order, process_id, name, status, assigned_to, machine_id,
       started_at, completed_at, created_at, updated_at,
       step_seconds(worked_seconds, status = 'in_progress', timer_started_at) AS worked_seconds,
       step_seconds(paused_seconds, status = 'paused', timer_started_at) AS paused_seconds, pause_reason, {cursor_key}
FROM job_steps
WHERE job_id = %(job_id)s AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-step
-- One step by id.
SELECT id, job_id, step_order, process_id, name, status, assigned_to, machine_id,
       started_at, completed_at, created_at, updated_at,
       step_seconds(worked_seconds, status = 'in_progress', timer_started_at) AS worked_seconds,
       step_seconds(paused_seconds, status = 'paused', timer_started_at) AS paused_seconds, pause_reason,
       xmin::text AS row_version
FROM job_steps WHERE id = %(step_id)s;

-- name: get-job-status
-- Whether a job exists, and its status.
SELECT id, status FROM jobs WHERE id = %(job_id)s;

-- name: lock-job
-- A job row, locked until the transaction ends (always taken before any of its steps' rows).
SELECT id, status FROM jobs WHERE id = %(job_id)s FOR UPDATE;

-- name: lock-job-of-step
-- The job a step belongs to, locked until the transaction ends.
SELECT j.id, j.status
FROM jobs j
WHERE j.id = (SELECT job_id FROM job_steps WHERE id = %(step_id)s)
FOR UPDATE;

-- name: lock-step
-- One step by id, locked (after its job) until the transaction ends.
SELECT id, job_id, step_order, process_id, name, status, assigned_to, machine_id,
       started_at, completed_at, created_at, updated_at,
       step_seconds(worked_seconds, status = 'in_progress', timer_started_at) AS worked_seconds,
       step_seconds(paused_seconds, status = 'paused', timer_started_at) AS paused_seconds, pause_reason,
       xmin::text AS row_version
FROM job_steps WHERE id = %(step_id)s
FOR UPDATE;

-- name: next-step-order
-- The position after a job's last step (call with the job locked).
SELECT COALESCE(max(step_order), 0) + 1 AS step_order FROM job_steps WHERE job_id = %(job_id)s;

-- name: find-processes
-- Which of the given processes exist, and whether they are active.
SELECT id, is_active FROM processes WHERE id = ANY(%(ids)s::bigint[]);

-- name: find-assignees
-- Which of the given users are active, with the processes their role may execute.
SELECT u.id,
       ARRAY(SELECT r.process_id FROM role_process_permissions r
             WHERE r.role = u.role AND r.can_execute) AS process_ids
FROM users u
WHERE u.id = ANY(%(ids)s::bigint[]) AND u.is_active;

-- name: find-machines
-- Which of the given machines exist and are in service.
SELECT id FROM machines WHERE id = ANY(%(ids)s::bigint[]) AND is_active;

-- name: role-may-execute
-- Whether a role may execute steps of a process.
SELECT EXISTS (
    SELECT 1 FROM role_process_permissions
    WHERE role = %(role)s AND process_id = %(process_id)s AND can_execute
) AS allowed;

-- name: insert-steps
-- A job's new steps from a JSON array; a step without a name takes its process's name.
INSERT INTO job_steps (job_id, step_order, process_id, name, assigned_to, machine_id)
SELECT %(job_id)s, x.step_order, x.process_id, COALESCE(x.name, p.name), x.assigned_to, x.machine_id
FROM json_to_recordset(%(steps)s::json)
     AS x (step_order integer, process_id bigint, name text, assigned_to bigint, machine_id bigint)
LEFT JOIN processes p ON p.id = x.process_id
ORDER BY x.step_order
RETURNING id, job_id, step_order, process_id, name, status, assigned_to, machine_id,
          started_at, completed_at, created_at, updated_at,
          step_seconds(worked_seconds, status = 'in_progress', timer_started_at) AS worked_seconds,
          step_seconds(paused_seconds, status = 'paused', timer_started_at) AS paused_seconds, pause_reason,
          xmin::text AS row_version;

-- name: notify-assignees
-- Tell each assigned operator about their steps ('step_assigned'), in the assigning transaction: one
-- notification per operator and job however many of its steps they got (naming the step when one).
INSERT INTO notifications (user_id, kind, message, job_id, step_id)
SELECT st.assigned_to, 'step_assigned',
       left(CASE WHEN count(*) = 1
                 THEN 'You were assigned step ' || min(st.step_order) || ' "' || min(st.name) || '" of '
                 ELSE 'You were assigned ' || count(*) || ' steps ('
                      || string_agg(st.name, ', ' ORDER BY st.step_order) || ') of '
            END || j.job_number || ': ' || j.title, 1000),
       j.id, CASE WHEN count(*) = 1 THEN min(st.id) END
FROM job_steps st
JOIN jobs j ON j.id = st.job_id
WHERE st.id = ANY(%(step_ids)s::bigint[]) AND st.assigned_to IS NOT NULL
GROUP BY st.assigned_to, j.id, j.job_number, j.title;

-- name: update-step
-- Write a step's status, pause reason, assignee and machine (the locked row merged with the PATCH:
-- rows.merged) and its time (domain/step_time.py: the closed segment's seconds added to the totals, the
-- open segment's start). The first start stamps started_at, completing stamps completed_at, a reopen
-- (back to pending) clears both; a resume keeps started_at.
UPDATE job_steps SET
    status = %(status)s,
    started_at = CASE WHEN %(status)s = 'pending' THEN NULL
                      WHEN %(status)s = 'in_progress' AND status = 'pending' THEN now() ELSE started_at END,
    completed_at = CASE WHEN %(status)s = 'pending' THEN NULL
                        WHEN %(status)s = 'completed' AND status <> 'completed' THEN now() ELSE completed_at END,
    pause_reason = %(pause_reason)s,
    worked_seconds = worked_seconds + %(add_worked)s,
    paused_seconds = paused_seconds + %(add_paused)s,
    paused_by_reason = CASE WHEN %(add_reason)s::text IS NULL THEN paused_by_reason
                            ELSE coalesce(paused_by_reason, '{}') || jsonb_build_object(%(add_reason)s::text,
                                 coalesce((paused_by_reason ->> %(add_reason)s::text)::float8, 0) + %(add_paused)s)
                       END,
    timer_started_at = CASE WHEN NOT %(status_changes)s THEN timer_started_at WHEN %(opens_timer)s THEN now() END,
    assigned_to = %(assigned_to)s, machine_id = %(machine_id)s
WHERE id = %(step_id)s
RETURNING id, job_id, step_order, process_id, name, status, assigned_to, machine_id,
          started_at, completed_at, created_at, updated_at,
          step_seconds(worked_seconds, status = 'in_progress', timer_started_at) AS worked_seconds,
          step_seconds(paused_seconds, status = 'paused', timer_started_at) AS paused_seconds, pause_reason,
          xmin::text AS row_version;

-- name: delete-step
-- Remove a step.
DELETE FROM job_steps WHERE id = %(step_id)s;

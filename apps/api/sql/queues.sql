-- Work queues: an operator's steps across jobs and a machine's waiting and running steps, each most
-- urgent first. Both read the job's urgency copied onto job_steps (migration 0040), so the order comes
-- straight from an index: idx_job_steps_my_queue and idx_job_steps_machine_queue.
-- A step's rank (0 in progress, 1 paused, 2 pending, 3 completed or skipped: migration 0110) is the indexes' expression, written the
-- same way here so that ?status= becomes an index bound (parameters are constants when the statement is
-- planned, so a missing filter folds away).

-- name: match-my-steps
-- The steps assigned to the user (optionally of one status, on one machine), for the count.
SELECT 1
FROM job_steps st
WHERE st.assigned_to = %(user_id)s
  AND (%(status)s::text IS NULL OR st.status = %(status)s)
  AND (%(machine_id)s::bigint IS NULL OR st.machine_id = %(machine_id)s);

-- name: list-my-steps
-- One page of the user's steps with their job: in progress, paused, pending, then finished; within each, urgent,
-- high, normal, low priority, then the earliest due date (none last), then the job and the step's position.
SELECT st.id, st.job_id, st.step_order, st.process_id, st.name, st.status, st.assigned_to, st.machine_id,
       st.started_at, st.completed_at, st.created_at, st.updated_at,
       step_seconds(st.worked_seconds, st.status = 'in_progress', st.timer_started_at) AS worked_seconds,
       step_seconds(st.paused_seconds, st.status = 'paused', st.timer_started_at) AS paused_seconds,
       st.pause_reason,
       j.job_number, j.title, c.name AS customer_name, j.due_date, j.priority, j.status AS job_status,
       -- the step's version: the view makes it the step's ETag exactly as GET /api/steps/<id> answers it (a
       -- keyed hash, web/etags.py), so a list row can be sent back as If-Match
       st.step_version::text AS row_version,
       {cursor_key}
FROM (
    SELECT st.*, st.xmin AS step_version
    FROM job_steps st
    WHERE st.assigned_to = %(user_id)s
      -- the rank alone decides in_progress and pending; naming the status there too would tempt the
      -- planner into idx_job_steps_assigned_status and a sort
      AND (%(status)s::text IS NULL OR %(status)s::text IN ('in_progress', 'paused', 'pending') OR st.status = %(status)s)
      AND (%(status)s::text IS NULL
           OR (CASE st.status WHEN 'in_progress' THEN 0 WHEN 'paused' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END)
              = (CASE %(status)s::text WHEN 'in_progress' THEN 0 WHEN 'paused' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END))
      AND (%(machine_id)s::bigint IS NULL OR st.machine_id = %(machine_id)s)
      AND {after}
    ORDER BY {order_by}
    LIMIT %(limit)s OFFSET %(offset)s
) st
JOIN jobs j ON j.id = st.job_id
JOIN customers c ON c.id = j.customer_id
ORDER BY {order_by};

-- name: machine-exists
-- Whether a machine id is known.
SELECT EXISTS (SELECT 1 FROM machines WHERE id = %(machine_id)s) AS found;

-- name: match-machine-queue
-- The steps waiting for, running or paused on the machine, for the count.
SELECT 1
FROM job_steps st
WHERE st.machine_id = %(machine_id)s AND st.status IN ('pending', 'in_progress', 'paused');

-- name: list-machine-queue
-- One page of the machine's queue: running steps first, then paused, then waiting ones, most urgent job first.
SELECT st.id, st.job_id, st.step_order, st.process_id, st.name, st.status, st.assigned_to, st.machine_id,
       st.started_at, st.completed_at, st.created_at, st.updated_at,
       step_seconds(st.worked_seconds, st.status = 'in_progress', st.timer_started_at) AS worked_seconds,
       step_seconds(st.paused_seconds, st.status = 'paused', st.timer_started_at) AS paused_seconds,
       st.pause_reason,
       j.job_number, j.title, c.name AS customer_name, j.due_date, j.priority, j.status AS job_status,
       -- the step's version: the view makes it the step's ETag exactly as GET /api/steps/<id> answers it (a
       -- keyed hash, web/etags.py), so a list row can be sent back as If-Match
       st.step_version::text AS row_version,
       {cursor_key}
FROM (
    SELECT st.*, st.xmin AS step_version
    FROM job_steps st
    WHERE st.machine_id = %(machine_id)s AND st.status IN ('pending', 'in_progress', 'paused')
      AND {after}
    ORDER BY {order_by}
    LIMIT %(limit)s OFFSET %(offset)s
) st
JOIN jobs j ON j.id = st.job_id
JOIN customers c ON c.id = j.customer_id
ORDER BY {order_by};

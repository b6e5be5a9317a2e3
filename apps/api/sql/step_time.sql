-- A step's time (apps/api/domain/step_time.py): segments of work and pause, every time the database's
-- now(), the time of the transaction that changes the step's status (so one segment ends exactly where
-- the next begins).

-- name: close-segment
-- End the step's open segment now; its kind, pause reason and length in seconds.
UPDATE step_time_segments SET ended_at = greatest(now(), started_at)
WHERE step_id = %(step_id)s AND ended_at IS NULL
RETURNING kind, reason, extract(epoch FROM ended_at - started_at)::float8 AS seconds;

-- name: open-segment
-- Begin a segment of work or pause on the step now.
INSERT INTO step_time_segments (step_id, kind, started_at, user_id, reason, note)
VALUES (%(step_id)s, %(kind)s, now(), %(user_id)s, %(reason)s, %(note)s);

-- name: list-segments
-- The step's segments, oldest first (idx_step_time_segments_step).
SELECT kind, started_at, ended_at, user_id, reason, note
FROM step_time_segments
WHERE step_id = %(step_id)s
ORDER BY started_at, id;

-- name: pause-reason-exists
-- Whether a pause reason code is known.
SELECT EXISTS (SELECT 1 FROM pause_reasons WHERE code = %(code)s) AS found;

-- name: notify-paused
-- Tell the job's creator (an active user other than whoever paused it) that a step was paused, and why.
INSERT INTO notifications (user_id, kind, message, job_id, step_id)
SELECT j.created_by, 'step_paused',
       left(j.job_number || ': step ' || st.step_order || ' "' || st.name || '" paused: ' || r.label, 1000),
       j.id, st.id
FROM job_steps st
JOIN jobs j ON j.id = st.job_id
JOIN users u ON u.id = j.created_by AND u.is_active AND u.deleted_at IS NULL
JOIN pause_reasons r ON r.code = st.pause_reason
WHERE st.id = %(step_id)s AND j.created_by IS DISTINCT FROM %(actor_id)s::bigint;

-- name: notify-reopened
-- Tell the step's assignee (other than whoever reopened it) that the step is open again.
INSERT INTO notifications (user_id, kind, message, job_id, step_id)
SELECT st.assigned_to, 'step_reopened',
       left(j.job_number || ': step ' || st.step_order || ' "' || st.name || '" was reopened', 1000),
       j.id, st.id
FROM job_steps st
JOIN jobs j ON j.id = st.job_id
JOIN users u ON u.id = st.assigned_to AND u.is_active
WHERE st.id = %(step_id)s AND st.assigned_to IS DISTINCT FROM %(actor_id)s::bigint;

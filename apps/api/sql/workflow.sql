-- The job and step workflow (apps/api/domain/workflow.py): what moves a job along as its steps change.

-- name: count-open-steps
-- How many of a job's steps are still pending, in progress or paused, and how many it has.
SELECT count(*) FILTER (WHERE status IN ('pending', 'in_progress', 'paused')) AS open, count(*) AS total
FROM job_steps WHERE job_id = %(job_id)s;

-- name: set-job-status
-- Move a job to a status (the caller holds the job's row lock and checked the transition).
UPDATE jobs SET status = %(status)s WHERE id = %(job_id)s;

-- name: notify-job-status
-- Tell the job's step assignees, except whoever made the change, that the job changed status.
INSERT INTO notifications (user_id, kind, message, job_id)
SELECT DISTINCT st.assigned_to, 'job_status',
       left(j.job_number || ': ' || j.title || ' is now ' || replace(j.status, '_', ' '), 1000), j.id
FROM job_steps st
JOIN jobs j ON j.id = st.job_id
JOIN users u ON u.id = st.assigned_to AND u.is_active
WHERE st.job_id = %(job_id)s AND st.assigned_to IS DISTINCT FROM %(actor_id)s::bigint;

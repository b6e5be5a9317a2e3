-- The job and step workflow (apps/api/workflow.py): what moves a job along as its steps change.

-- name: count-open-steps
-- How many of a job's steps are still pending or in progress, and how many it has.
SELECT count(*) FILTER (WHERE status IN ('pending', 'in_progress')) AS open, count(*) AS total
FROM job_steps WHERE job_id = %(job_id)s;

-- name: set-job-status
-- Move a job to a status (the caller holds the job's row lock and checked the transition).
UPDATE jobs SET status = %(status)s WHERE id = %(job_id)s;

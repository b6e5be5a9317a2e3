-- A job's progress (steps_total, steps_completed) and its version (the ETag of GET /api/jobs/<id>), each
-- written once here for the statements that need them. Both read the job's steps through the
-- (job_id, step_order) unique index.

-- How many steps the job has, and how many are done (completed or skipped: what no longer needs work).
CREATE FUNCTION job_step_counts(the_job_id bigint, OUT steps_total integer, OUT steps_completed integer)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT count(*)::integer, (count(*) FILTER (WHERE st.status IN ('completed', 'skipped')))::integer
    FROM job_steps st
    WHERE st.job_id = the_job_id
$$;

-- The job's representation shows its row, its customer's name, its steps and whether it is overdue today
-- (UTC): the version changes when any of them does. xmin is the transaction that wrote a row's current
-- version; a removed step drops out of the list.
CREATE FUNCTION job_version(the_job_id bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT md5(concat_ws('/', j.xmin, c.xmin,
                         j.status NOT IN ('completed', 'cancelled')
                             AND j.due_date < (now() AT TIME ZONE 'UTC')::date,
                         (SELECT string_agg(st.id || ':' || st.xmin, ',' ORDER BY st.step_order)
                          FROM job_steps st WHERE st.job_id = j.id)))
    FROM jobs j
    JOIN customers c ON c.id = j.customer_id
    WHERE j.id = the_job_id
$$;

-- A job's steps in order as one JSON array, for GET /api/jobs (each item) and GET /api/jobs/<id>:
-- written once here instead of in both statements. Uses the (job_id, step_order) unique index.

CREATE FUNCTION job_steps_json(the_job_id bigint) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'id', st.id, 'job_id', st.job_id, 'step_order', st.step_order,
               'process_id', st.process_id, 'name', st.name, 'status', st.status,
               'assigned_to', st.assigned_to, 'machine_id', st.machine_id,
               'started_at', st.started_at, 'completed_at', st.completed_at,
               'created_at', st.created_at, 'updated_at', st.updated_at)
           ORDER BY st.step_order), '[]'::json)
    FROM job_steps st
    WHERE st.job_id = the_job_id
$$;

-- Work queues: GET /api/me/steps (an operator's steps, most urgent first) and GET /api/machines/<id>/queue.
-- "Most urgent" is a property of the step's job (priority, then due date), so an index on job_steps alone
-- cannot order by it. Each step therefore carries a copy of its job's urgency (job_urgency: 0 urgent,
-- 1 high, 2 normal, 3 low; job_due_date), kept by triggers: set when a step is inserted, rewritten when
-- its job's priority or due date changes (at most 100 steps per job). job_due_date is 'infinity' when the
-- job has none: it sorts last, and a keyset cursor compares it like any date (a NULL would compare as NULL). The indexes below then hand out a
-- page in order by reading only that page: no sort, whatever the number of jobs.

CREATE FUNCTION job_urgency(priority text) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END::smallint
$$;

ALTER TABLE job_steps ADD COLUMN job_urgency smallint, ADD COLUMN job_due_date date;

-- Filling the copies is not a change of the steps: no updated_at stamp, no dashboard trigger.
ALTER TABLE job_steps DISABLE TRIGGER USER;
UPDATE job_steps st SET job_urgency = job_urgency(j.priority), job_due_date = COALESCE(j.due_date, 'infinity')
FROM jobs j WHERE j.id = st.job_id;
ALTER TABLE job_steps ENABLE TRIGGER USER;
ALTER TABLE job_steps ALTER COLUMN job_urgency SET NOT NULL, ALTER COLUMN job_due_date SET NOT NULL;

CREATE FUNCTION job_steps_copy_urgency() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT job_urgency(j.priority), COALESCE(j.due_date, 'infinity') INTO NEW.job_urgency, NEW.job_due_date
    FROM jobs j WHERE j.id = NEW.job_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER job_steps_urgency BEFORE INSERT ON job_steps
    FOR EACH ROW EXECUTE FUNCTION job_steps_copy_urgency();

CREATE FUNCTION jobs_share_urgency() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_steps SET job_urgency = job_urgency(NEW.priority), job_due_date = COALESCE(NEW.due_date, 'infinity')
    WHERE job_id = NEW.id;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_urgency AFTER UPDATE OF priority, due_date ON jobs
    FOR EACH ROW WHEN (OLD.priority IS DISTINCT FROM NEW.priority OR OLD.due_date IS DISTINCT FROM NEW.due_date)
    EXECUTE FUNCTION jobs_share_urgency();

-- A step's updated_at says when the step changed, not when its job's urgency copy did.
DROP TRIGGER job_steps_updated_at ON job_steps;
CREATE TRIGGER job_steps_updated_at BEFORE UPDATE ON job_steps
    FOR EACH ROW WHEN (OLD.job_urgency IS NOT DISTINCT FROM NEW.job_urgency
                       AND OLD.job_due_date IS NOT DISTINCT FROM NEW.job_due_date)
    EXECUTE FUNCTION set_updated_at();

-- GET /api/me/steps: the caller's steps, running ones first, then waiting ones, then finished ones (the least
-- urgent), each by the job's urgency and due date. The rank is an integer, not a boolean, so that
-- ?status= stays an index bound (the planner rewrites "boolean = false" into a filter).
CREATE INDEX idx_job_steps_my_queue ON job_steps
    (assigned_to, (CASE status WHEN 'in_progress' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END),
     job_urgency, job_due_date, job_id, step_order)
    WHERE assigned_to IS NOT NULL;

-- GET /api/machines/<id>/queue: a machine's open steps in the same order.
CREATE INDEX idx_job_steps_machine_queue ON job_steps
    (machine_id, (CASE status WHEN 'in_progress' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END),
     job_urgency, job_due_date, job_id, step_order)
    WHERE machine_id IS NOT NULL AND status IN ('pending', 'in_progress');

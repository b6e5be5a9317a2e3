-- Issue 26: a step may be paused (with a reason), its time is kept as segments of work and pause, and
-- the report of time per step reads totals kept on the step row.
--
-- Time is the database's: every segment starts and ends at now() of the transaction that changes the
-- step's status (apps/api/domain/step_time.py), never at a time a client sends.
-- job_steps carries the totals of its closed segments (worked_seconds, paused_seconds, paused_by_reason:
-- {reason: seconds}) and the start of its open one (timer_started_at), so a step's time now is one
-- addition (step_seconds() below) and the report reads only the rows of completed steps in its range.

-- The reasons a step may be paused for; admins add more (POST /api/pause-reasons).
CREATE TABLE pause_reasons (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    label      text NOT NULL CHECK (length(btrim(label)) BETWEEN 1 AND 100),
    sort_order integer NOT NULL DEFAULT 1000,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO pause_reasons (code, label, sort_order) VALUES
    ('proof_approval', 'Waiting for proof approval', 10),
    ('out_of_media', 'Out of media', 20),
    ('waiting_material', 'Waiting for material', 30),
    ('machine_down', 'Machine down', 40),
    ('maintenance', 'Maintenance', 50),
    ('end_of_shift', 'End of shift', 60),
    ('break', 'Break', 70),
    ('other', 'Other', 80);

ALTER TABLE job_steps DROP CONSTRAINT job_steps_status_check;
ALTER TABLE job_steps
    ADD CONSTRAINT job_steps_status_check
        CHECK (status IN ('pending', 'in_progress', 'paused', 'completed', 'skipped')),
    -- totals of the closed segments, in seconds
    ADD COLUMN worked_seconds double precision NOT NULL DEFAULT 0,
    ADD COLUMN paused_seconds double precision NOT NULL DEFAULT 0,
    -- the closed pauses' seconds per reason code ({"break": 600.0}); NULL while there were none
    ADD COLUMN paused_by_reason jsonb,
    -- while paused: why (the code)
    ADD COLUMN pause_reason text REFERENCES pause_reasons (code),
    -- when the open segment (work while in_progress, pause while paused) began
    ADD COLUMN timer_started_at timestamptz,
    ADD CONSTRAINT job_steps_paused_has_reason CHECK ((status = 'paused') = (pause_reason IS NOT NULL)),
    ADD CONSTRAINT job_steps_paused_was_started CHECK (status <> 'paused' OR started_at IS NOT NULL);

-- Every stretch of work or pause on a step: who, when, and (a pause) why.
CREATE TABLE step_time_segments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    step_id    bigint NOT NULL REFERENCES job_steps (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('work', 'pause')),
    started_at timestamptz NOT NULL,
    ended_at   timestamptz CHECK (ended_at >= started_at),
    user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    reason     text REFERENCES pause_reasons (code),
    note       text CHECK (length(note) <= 500),
    CHECK ((kind = 'pause') = (reason IS NOT NULL))
);
CREATE INDEX idx_step_time_segments_step ON step_time_segments (step_id, started_at, id);
-- At most one open segment per step.
CREATE UNIQUE INDEX idx_step_time_segments_open ON step_time_segments (step_id) WHERE ended_at IS NULL;

-- Steps started before this migration: one work segment from their stored start to their finish (a
-- completed step), to their last change (a skipped one) or open (one in progress). Who worked is not known.
INSERT INTO step_time_segments (step_id, kind, started_at, ended_at)
SELECT id, 'work', started_at,
       CASE status WHEN 'completed' THEN completed_at WHEN 'skipped' THEN greatest(updated_at, started_at) END
FROM job_steps
WHERE started_at IS NOT NULL AND status IN ('in_progress', 'completed', 'skipped');

-- Filling the totals is not a change of the steps: no updated_at stamp, no dashboard trigger.
ALTER TABLE job_steps DISABLE TRIGGER USER;
UPDATE job_steps
SET worked_seconds = extract(epoch FROM CASE status WHEN 'completed' THEN completed_at
                                                    ELSE greatest(updated_at, started_at) END - started_at)
WHERE started_at IS NOT NULL AND status IN ('completed', 'skipped');
UPDATE job_steps SET timer_started_at = started_at WHERE status = 'in_progress';
ALTER TABLE job_steps ENABLE TRIGGER USER;

-- A step's seconds now: the closed segments' total plus the open one up to now() while it runs.
CREATE FUNCTION step_seconds(closed double precision, running boolean, since timestamptz) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT floor(closed + CASE WHEN running AND since IS NOT NULL
                               THEN greatest(extract(epoch FROM now() - since), 0) ELSE 0 END)::bigint
$$;

-- The work queues' rank gains paused (between running and waiting): the indexes of 0040 again, with it.
DROP INDEX idx_job_steps_my_queue;
DROP INDEX idx_job_steps_machine_queue;
CREATE INDEX idx_job_steps_my_queue ON job_steps
    (assigned_to, (CASE status WHEN 'in_progress' THEN 0 WHEN 'paused' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END),
     job_urgency, job_due_date, job_id, step_order)
    WHERE assigned_to IS NOT NULL;
CREATE INDEX idx_job_steps_machine_queue ON job_steps
    (machine_id, (CASE status WHEN 'in_progress' THEN 0 WHEN 'paused' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END),
     job_urgency, job_due_date, job_id, step_order)
    WHERE machine_id IS NOT NULL AND status IN ('pending', 'in_progress', 'paused');

-- GET /api/reports/step-times: the completed steps of a date range, read from this index alone (an
-- index-only scan of a month's rows: no heap visit, whatever the table's size).
CREATE INDEX idx_job_steps_finished ON job_steps (completed_at)
    INCLUDE (process_id, machine_id, assigned_to, worked_seconds, paused_by_reason)
    WHERE status = 'completed';

-- The dashboard's flag of timers left running: the steps in progress by the start of their open segment.
CREATE INDEX idx_job_steps_running_timer ON job_steps (timer_started_at) WHERE status = 'in_progress';

-- A pause tells the job's creator; a reopen tells the step's assignee.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('step_assigned', 'job_status', 'job_overdue', 'system', 'step_paused', 'step_reopened'));

-- The job's steps as JSON (0012) with their time.
CREATE OR REPLACE FUNCTION job_steps_json(the_job_id bigint) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(json_agg(json_build_object(
               'id', st.id, 'job_id', st.job_id, 'step_order', st.step_order,
               'process_id', st.process_id, 'name', st.name, 'status', st.status,
               'assigned_to', st.assigned_to, 'machine_id', st.machine_id,
               'started_at', st.started_at, 'completed_at', st.completed_at,
               'created_at', st.created_at, 'updated_at', st.updated_at,
               'worked_seconds', step_seconds(st.worked_seconds, st.status = 'in_progress', st.timer_started_at),
               'paused_seconds', step_seconds(st.paused_seconds, st.status = 'paused', st.timer_started_at),
               'pause_reason', st.pause_reason)
           ORDER BY st.step_order), '[]'::json)
    FROM job_steps st
    WHERE st.job_id = the_job_id
$$;

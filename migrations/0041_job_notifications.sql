-- Notifications that matter: a job's status change ('job_status', already a kind) and a job running late
-- ('job_overdue'). overdue_notices remembers which (job, due date) was announced, so a job is announced
-- once however many schedulers run; moving the due date and missing it again announces it again.

ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('step_assigned', 'job_status', 'job_overdue', 'system'));

CREATE TABLE overdue_notices (
    job_id      bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    due_date    date NOT NULL,
    notified_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, due_date)
);

-- The unread count of GET /api/notifications.
CREATE INDEX idx_notifications_user_unread ON notifications (user_id) WHERE NOT is_read;

-- Jobs already late when this ships were late before anyone could be told: only jobs that become overdue
-- from now on are announced (no flood of old news on the first sweep).
INSERT INTO overdue_notices (job_id, due_date)
SELECT id, due_date FROM jobs
WHERE status NOT IN ('completed', 'cancelled') AND due_date < (now() AT TIME ZONE 'UTC')::date;

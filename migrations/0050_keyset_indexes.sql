-- Keyset pagination (issue 15): every list order is (sort key, id), and each has a btree index on exactly
-- those keys, so "the page after this cursor" is one index range read of a page, whatever the table's size.
-- Indexes of 0002 that lacked the id tie-breaker are rebuilt under the same name with it.

-- Priority as a rank (low < normal < high < urgent), for GET /api/jobs?sort=priority.
CREATE FUNCTION job_priority_rank(priority text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE priority WHEN 'low' THEN 1 WHEN 'normal' THEN 2 WHEN 'high' THEN 3 WHEN 'urgent' THEN 4 END;

-- GET /api/jobs?sort=due_date: a missing due date sorts last both ways (infinity up, -infinity down).
DROP INDEX idx_jobs_due_date;
CREATE INDEX idx_jobs_due_date ON jobs ((COALESCE(due_date, 'infinity'::date)), id);
CREATE INDEX idx_jobs_due_date_desc ON jobs ((COALESCE(due_date, '-infinity'::date)), id);
-- GET /api/jobs?sort=updated_at and ?sort=priority
CREATE INDEX idx_jobs_updated_at ON jobs (updated_at, id);
CREATE INDEX idx_jobs_priority ON jobs ((job_priority_rank(priority)), id);
-- GET /api/jobs?status= and ?customer_id= by created_at: the order is (status, created_at, id), so that
-- only this index yields it (the planner cannot prefer created_at alone and filter a rare status out).
DROP INDEX idx_jobs_status_created_at;
CREATE INDEX idx_jobs_status_created_at ON jobs (status, created_at, id);
DROP INDEX idx_jobs_customer_created_at;
CREATE INDEX idx_jobs_customer_created_at ON jobs (customer_id, created_at, id);

-- GET /api/notifications and GET /api/audit-logs (with or without their filters), newest first.
DROP INDEX idx_notifications_user_created;
CREATE INDEX idx_notifications_user_created ON notifications (user_id, created_at DESC, id DESC);
DROP INDEX idx_audit_logs_entity, idx_audit_logs_user, idx_audit_logs_created_at;
CREATE INDEX idx_audit_logs_entity ON audit_logs (entity, entity_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_user ON audit_logs (user_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_created_at ON audit_logs (created_at DESC, id DESC);

-- Indexes, each for a query that runs. Of the report's 31 we keep the ones a real query uses;
-- substring search gets trigram GIN (a btree cannot serve ILIKE '%x%'); open jobs get partial indexes.
-- Primary keys and UNIQUE constraints already index users.username, customers.email, jobs.job_number
-- and job_steps (job_id, step_order), which also serves "a job's steps in order".

-- GET /api/customers?q= : ILIKE '%q%' over name, email, phone.
CREATE INDEX idx_customers_name_trgm ON customers USING gin (name gin_trgm_ops);
CREATE INDEX idx_customers_email_trgm ON customers USING gin (email gin_trgm_ops);
CREATE INDEX idx_customers_phone_trgm ON customers USING gin (phone gin_trgm_ops);
-- GET /api/customers : ordered by name, then id (keyset-friendly).
CREATE INDEX idx_customers_name ON customers (name, id);

-- GET /api/jobs (default sort) and GET /api/dashboard/recent-jobs : newest first.
CREATE INDEX idx_jobs_created_at ON jobs (created_at DESC, id DESC);
-- GET /api/jobs?status= : filter by status, newest first.
CREATE INDEX idx_jobs_status_created_at ON jobs (status, created_at DESC);
-- GET /api/jobs?customer_id= , and the customers -> jobs foreign key check on delete.
CREATE INDEX idx_jobs_customer_created_at ON jobs (customer_id, created_at DESC);
-- GET /api/jobs?overdue=true and the overdue count: only open jobs have a due date that matters.
CREATE INDEX idx_jobs_open_due_date ON jobs (due_date)
    WHERE status NOT IN ('completed', 'cancelled');
-- GET /api/jobs?sort=due_date
CREATE INDEX idx_jobs_due_date ON jobs (due_date, id);
-- GET /api/jobs?q= : ILIKE '%q%' over job number and title.
CREATE INDEX idx_jobs_job_number_trgm ON jobs USING gin (job_number gin_trgm_ops);
CREATE INDEX idx_jobs_title_trgm ON jobs USING gin (title gin_trgm_ops);

-- An operator's steps (dashboard tasks, "my open steps") and the users -> job_steps foreign key.
CREATE INDEX idx_job_steps_assigned_status ON job_steps (assigned_to, status);
-- Machine workload, and the machines -> job_steps foreign key (ON DELETE SET NULL).
CREATE INDEX idx_job_steps_machine ON job_steps (machine_id) WHERE machine_id IS NOT NULL;
-- The processes -> job_steps foreign key (ON DELETE RESTRICT must not scan every step).
CREATE INDEX idx_job_steps_process ON job_steps (process_id);

-- GET /api/notifications : the caller's, newest first.
CREATE INDEX idx_notifications_user_created ON notifications (user_id, created_at DESC);

-- GET /api/audit-logs?entity=&entity_id= , ?user_id= , and the unfiltered newest-first list.
CREATE INDEX idx_audit_logs_entity ON audit_logs (entity, entity_id, created_at DESC);
CREATE INDEX idx_audit_logs_user ON audit_logs (user_id, created_at DESC);
CREATE INDEX idx_audit_logs_created_at ON audit_logs (created_at DESC);

-- Purging expired revocations.
CREATE INDEX idx_revoked_tokens_expires_at ON revoked_tokens (expires_at);

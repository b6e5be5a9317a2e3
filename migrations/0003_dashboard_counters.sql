-- Dashboard counts kept by the database itself, so GET /api/dashboard/stats costs the same at ten jobs
-- or ten million, whoever writes (the API, a script, psql).
--
-- How: statement-level triggers with transition tables turn each statement into a few aggregated deltas
-- (a 10,000-row UPDATE gives one delta per counter it moves, not 10,000 row updates). The deltas are parked
-- per transaction in dashboard_pending and applied at commit by a deferred trigger, every counter table in
-- one fixed order and every key in ORDER BY order. Applying at commit rather than per statement matters:
-- a transaction that writes a job and then a step, and another that writes a step and then a job, would
-- otherwise lock counter rows in opposite orders and deadlock; and hot rows (the 'draft' count) stay
-- locked only for the instant of the commit instead of for the whole transaction.
-- The same triggers pg_notify('cache_invalidate', <cache key prefix>) so every API worker drops the
-- dashboard answers a write changed (see apps/api/listener.py).

CREATE TABLE dashboard_job_counts (
    status text PRIMARY KEY
           CHECK (status IN ('draft', 'active', 'in_progress', 'on_hold', 'completed', 'cancelled')),
    n      bigint NOT NULL DEFAULT 0
);
INSERT INTO dashboard_job_counts (status)
VALUES ('draft'), ('active'), ('in_progress'), ('on_hold'), ('completed'), ('cancelled');

-- Open jobs (not completed or cancelled) per due date: the overdue count is the sum before today.
CREATE TABLE dashboard_open_due_counts (
    due_date date PRIMARY KEY,
    n        bigint NOT NULL
);

-- Jobs per month of created_at, in UTC: the jobs-by-month chart.
CREATE TABLE dashboard_job_months (
    month date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    n     bigint NOT NULL
);

-- Assigned steps per assignee and status: the caller's tasks. No foreign key: a deleted user's steps
-- are set to NULL (ON DELETE SET NULL), which the triggers count down to 0 anyway.
CREATE TABLE dashboard_step_counts (
    assigned_to bigint NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'skipped')),
    n           bigint NOT NULL,
    PRIMARY KEY (assigned_to, status)
);

-- Deltas of transactions that have not committed yet; each transaction only ever sees and deletes its own.
-- Unlogged: a row lives from a statement to its own commit, and a crash discards those transactions anyway.
CREATE UNLOGGED TABLE dashboard_pending (
    txid    bigint NOT NULL,
    counter text NOT NULL CHECK (counter IN ('job_status', 'open_due', 'job_month', 'step')),
    status  text,
    day     date,
    user_id bigint,
    n       bigint NOT NULL
);
CREATE INDEX idx_dashboard_pending_txid ON dashboard_pending (txid);

-- The counters one job contributes to: its status, its due date while open, its month of creation (UTC).
CREATE FUNCTION dashboard_job_keys(job_status text, job_due date, job_created timestamptz)
RETURNS TABLE (counter text, status text, day date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'job_status', job_status, NULL::date
    UNION ALL
    SELECT 'open_due', NULL, job_due
    WHERE job_due IS NOT NULL AND job_status NOT IN ('completed', 'cancelled')
    UNION ALL
    SELECT 'job_month', NULL, date_trunc('month', job_created AT TIME ZONE 'UTC')::date
$$;

-- Park the deltas of one statement on jobs, and tell the API workers which answers it changed.
CREATE FUNCTION dashboard_jobs_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parked bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_pending (txid, counter, status, day, n)
        SELECT txid_current(), k.counter, k.status, k.day, count(*)
        FROM new_rows r, dashboard_job_keys(r.status, r.due_date, r.created_at) k
        GROUP BY k.counter, k.status, k.day;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_pending (txid, counter, status, day, n)
        SELECT txid_current(), k.counter, k.status, k.day, -count(*)
        FROM old_rows r, dashboard_job_keys(r.status, r.due_date, r.created_at) k
        GROUP BY k.counter, k.status, k.day;
    ELSE
        INSERT INTO dashboard_pending (txid, counter, status, day, n)
        SELECT txid_current(), k.counter, k.status, k.day, sum(r.sign)
        FROM (SELECT 1 AS sign, status, due_date, created_at FROM new_rows
              UNION ALL
              SELECT -1, status, due_date, created_at FROM old_rows) r,
             dashboard_job_keys(r.status, r.due_date, r.created_at) k
        GROUP BY k.counter, k.status, k.day
        HAVING sum(r.sign) <> 0;
    END IF;
    GET DIAGNOSTICS parked = ROW_COUNT;
    IF parked > 0 THEN
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/');
    ELSIF TG_OP = 'UPDATE' AND EXISTS (SELECT FROM new_rows) THEN
        -- No count moved, but a title, number, customer or due date shown in the recent jobs may have.
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/recent-jobs');
    END IF;
    RETURN NULL;
END;
$$;

-- Park the deltas of one statement on job_steps (assigned steps only: the dashboard counts the caller's).
CREATE FUNCTION dashboard_steps_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parked bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_pending (txid, counter, user_id, status, n)
        SELECT txid_current(), 'step', assigned_to, status, count(*)
        FROM new_rows WHERE assigned_to IS NOT NULL
        GROUP BY assigned_to, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_pending (txid, counter, user_id, status, n)
        SELECT txid_current(), 'step', assigned_to, status, -count(*)
        FROM old_rows WHERE assigned_to IS NOT NULL
        GROUP BY assigned_to, status;
    ELSE
        INSERT INTO dashboard_pending (txid, counter, user_id, status, n)
        SELECT txid_current(), 'step', r.assigned_to, r.status, sum(r.sign)
        FROM (SELECT 1 AS sign, assigned_to, status FROM new_rows
              UNION ALL
              SELECT -1, assigned_to, status FROM old_rows) r
        WHERE r.assigned_to IS NOT NULL
        GROUP BY r.assigned_to, r.status
        HAVING sum(r.sign) <> 0;
    END IF;
    GET DIAGNOSTICS parked = ROW_COUNT;
    IF parked > 0 THEN
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/stats');
    END IF;
    RETURN NULL;
END;
$$;

-- At commit: apply this transaction's parked deltas, table by table in a fixed order, keys in order.
CREATE FUNCTION dashboard_apply_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    deltas dashboard_pending[];
BEGIN
    WITH parked AS (
        DELETE FROM dashboard_pending WHERE txid = txid_current()
        RETURNING counter, status, day, user_id, n
    )
    SELECT array_agg(ROW(NULL, counter, status, day, user_id, total)::dashboard_pending)
    INTO deltas
    FROM (SELECT counter, status, day, user_id, sum(n) AS total
          FROM parked
          GROUP BY counter, status, day, user_id
          HAVING sum(n) <> 0) s;
    IF deltas IS NULL THEN
        RETURN NULL;  -- an earlier firing in this transaction applied them all
    END IF;
    INSERT INTO dashboard_job_counts AS c (status, n)
    SELECT d.status, d.n FROM unnest(deltas) d WHERE d.counter = 'job_status' ORDER BY d.status
    ON CONFLICT (status) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO dashboard_open_due_counts AS c (due_date, n)
    SELECT d.day, d.n FROM unnest(deltas) d WHERE d.counter = 'open_due' ORDER BY d.day
    ON CONFLICT (due_date) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO dashboard_job_months AS c (month, n)
    SELECT d.day, d.n FROM unnest(deltas) d WHERE d.counter = 'job_month' ORDER BY d.day
    ON CONFLICT (month) DO UPDATE SET n = c.n + excluded.n;
    INSERT INTO dashboard_step_counts AS c (assigned_to, status, n)
    SELECT d.user_id, d.status, d.n FROM unnest(deltas) d WHERE d.counter = 'step'
    ORDER BY d.user_id, d.status
    ON CONFLICT (assigned_to, status) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END;
$$;

-- TRUNCATE has no transition table: reset the counters of the truncated table (and drop this
-- transaction's parked deltas for them). TRUNCATE holds an exclusive lock, so no other writer is in flight.
CREATE FUNCTION dashboard_table_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'jobs' THEN
        DELETE FROM dashboard_pending
        WHERE txid = txid_current() AND counter IN ('job_status', 'open_due', 'job_month');
        UPDATE dashboard_job_counts SET n = 0 WHERE n <> 0;
        DELETE FROM dashboard_open_due_counts;
        DELETE FROM dashboard_job_months;
    ELSE
        DELETE FROM dashboard_pending WHERE txid = txid_current() AND counter = 'step';
        DELETE FROM dashboard_step_counts;
    END IF;
    PERFORM pg_notify('cache_invalidate', '/api/dashboard/');
    RETURN NULL;
END;
$$;

-- Tell the API workers that answers built from a small table (users, machines, customer names) changed.
CREATE FUNCTION dashboard_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cache_invalidate', TG_ARGV[0]);
    RETURN NULL;
END;
$$;

-- Transition tables allow one event per trigger, hence three triggers per table.
CREATE TRIGGER dashboard_jobs_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_jobs_changed();
CREATE TRIGGER dashboard_jobs_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_jobs_changed();
CREATE TRIGGER dashboard_jobs_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_jobs_changed();
CREATE TRIGGER dashboard_jobs_truncate AFTER TRUNCATE ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_table_truncated();

CREATE TRIGGER dashboard_steps_insert AFTER INSERT ON job_steps
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_steps_changed();
CREATE TRIGGER dashboard_steps_update AFTER UPDATE ON job_steps
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_steps_changed();
CREATE TRIGGER dashboard_steps_delete AFTER DELETE ON job_steps
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dashboard_steps_changed();
CREATE TRIGGER dashboard_steps_truncate AFTER TRUNCATE ON job_steps
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_table_truncated();

-- Fires once per parked row, at commit; the first firing applies everything, the others find nothing.
CREATE CONSTRAINT TRIGGER dashboard_pending_apply AFTER INSERT ON dashboard_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_apply_pending();

CREATE TRIGGER dashboard_users_notify AFTER INSERT OR DELETE OR UPDATE OF role, is_active OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/stats');
CREATE TRIGGER dashboard_machines_notify AFTER INSERT OR DELETE OR UPDATE OF status, is_active OR TRUNCATE
    ON machines FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/stats');
CREATE TRIGGER dashboard_customers_notify AFTER UPDATE OF name ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/recent-jobs');

-- Every count recomputed from the base tables, written independently of the triggers above so that
-- `flask dashboard verify` can catch a mistake in either.
CREATE VIEW dashboard_expected_counts AS
SELECT CASE WHEN grouping(j.status) = 0 THEN 'job_status'
            WHEN grouping(j.open_due) = 0 THEN 'open_due'
            ELSE 'job_month' END AS counter,
       j.status,
       coalesce(j.open_due, j.month) AS day,
       NULL::bigint AS user_id,
       count(*) AS n
FROM (SELECT status,
             CASE WHEN status IN ('completed', 'cancelled') THEN NULL ELSE due_date END AS open_due,
             date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month
      FROM jobs) j
GROUP BY GROUPING SETS ((j.status), (j.open_due), (j.month))
HAVING grouping(j.open_due) = 1 OR j.open_due IS NOT NULL
UNION ALL
SELECT 'step', status, NULL, assigned_to, count(*)
FROM job_steps WHERE assigned_to IS NOT NULL
GROUP BY assigned_to, status;

-- The counter tables in the same shape (zero rows left behind by deletes are not counts).
CREATE VIEW dashboard_actual_counts AS
SELECT 'job_status' AS counter, status, NULL::date AS day, NULL::bigint AS user_id, n
FROM dashboard_job_counts WHERE n <> 0
UNION ALL
SELECT 'open_due', NULL, due_date, NULL, n FROM dashboard_open_due_counts WHERE n <> 0
UNION ALL
SELECT 'job_month', NULL, month, NULL, n FROM dashboard_job_months WHERE n <> 0
UNION ALL
SELECT 'step', status, NULL, assigned_to, n FROM dashboard_step_counts WHERE n <> 0;

-- Counters that disagree with the base tables (empty when all is well).
CREATE VIEW dashboard_counter_drift AS
SELECT counter, status, day, user_id, sum(expected) AS expected, sum(actual) AS actual
FROM (SELECT counter, status, day, user_id, n AS expected, 0 AS actual FROM dashboard_expected_counts
      UNION ALL
      SELECT counter, status, day, user_id, 0, n FROM dashboard_actual_counts) c
GROUP BY counter, status, day, user_id
HAVING sum(expected) <> sum(actual);

-- Recompute every counter from the base tables; return how many were wrong. Writers wait meanwhile.
CREATE FUNCTION dashboard_rebuild_counters() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    expected dashboard_pending[];
    wrong bigint;
BEGIN
    LOCK TABLE jobs, job_steps IN SHARE MODE;
    SELECT array_agg(ROW(NULL, counter, status, day, user_id, n)::dashboard_pending)
    INTO expected FROM dashboard_expected_counts;
    expected := coalesce(expected, '{}');
    SELECT count(*) INTO wrong FROM (
        SELECT counter, status, day, user_id
        FROM (SELECT counter, status, day, user_id, n AS e, 0 AS a FROM unnest(expected)
              UNION ALL
              SELECT counter, status, day, user_id, 0, n FROM dashboard_actual_counts) c
        GROUP BY counter, status, day, user_id
        HAVING sum(e) <> sum(a)) w;
    UPDATE dashboard_job_counts c
    SET n = coalesce((SELECT d.n FROM unnest(expected) d
                      WHERE d.counter = 'job_status' AND d.status = c.status), 0);
    DELETE FROM dashboard_open_due_counts;
    INSERT INTO dashboard_open_due_counts (due_date, n)
    SELECT day, n FROM unnest(expected) WHERE counter = 'open_due' ORDER BY day;
    DELETE FROM dashboard_job_months;
    INSERT INTO dashboard_job_months (month, n)
    SELECT day, n FROM unnest(expected) WHERE counter = 'job_month' ORDER BY day;
    DELETE FROM dashboard_step_counts;
    INSERT INTO dashboard_step_counts (assigned_to, status, n)
    SELECT user_id, status, n FROM unnest(expected) WHERE counter = 'step' ORDER BY user_id, status;
    PERFORM pg_notify('cache_invalidate', '/api/dashboard/');
    RETURN wrong;
END;
$$;

-- Count what is already there (a database migrated with jobs in it).
SELECT dashboard_rebuild_counters();

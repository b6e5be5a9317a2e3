-- Dashboard counts kept by the database itself, so GET /api/dashboard/stats costs the same at ten jobs
-- or ten million, whoever writes (the API, a script, psql).
--
-- How: statement-level triggers with transition tables turn each statement into a few aggregated deltas
-- (a 10,000-row UPDATE gives one delta per counter it moves, not 10,000 row updates). A transaction parks
-- its deltas in its own dashboard_pending row, and a deferred trigger applies them once, at commit, in one
-- statement that updates the counter rows in key order. Applying at commit rather than per statement
-- matters: a transaction that writes a job and then a step, and another that writes a step and then a job
-- (PATCH /api/steps does), would otherwise lock counter rows in opposite orders and deadlock; and a hot
-- row (the 'draft' count) stays locked for the instant of a commit instead of a whole transaction.
-- The same triggers pg_notify('cache_invalidate', <cache key prefix>) so every API worker drops the
-- dashboard answers a write changed (apps/api/listener.py); the notification is delivered at commit.

-- Every counter in one table, so a transaction's deltas land in one ordered statement.
-- Unused key columns hold '' / '-infinity' / 0 (NULL cannot be part of a primary key).
CREATE TABLE dashboard_counts (
    counter text NOT NULL CHECK (counter IN ('job_status', 'open_due', 'job_month', 'step')),
    -- job_status: jobs per status; step: assigned steps per status and assignee
    status  text NOT NULL DEFAULT '',
    -- open_due: open jobs (not completed or cancelled) per due date; job_month: jobs per month (UTC)
    day     date NOT NULL DEFAULT '-infinity',
    -- step: the assignee (no foreign key: a deleted user's steps are set to NULL, counted down to 0)
    user_id bigint NOT NULL DEFAULT 0,
    n       bigint NOT NULL,
    PRIMARY KEY (counter, status, day, user_id)
);

CREATE TYPE dashboard_delta AS (counter text, status text, day date, user_id bigint, n bigint);

-- The deltas of transactions that have not committed yet, one row per transaction, each seen only by
-- its own. Unlogged: a row lives from a statement to its own commit, and a crash discards those anyway.
CREATE UNLOGGED TABLE dashboard_pending (
    txid   bigint PRIMARY KEY,
    deltas dashboard_delta[] NOT NULL
);

-- The counters one job contributes to: its status, its due date while open, its month of creation (UTC).
CREATE FUNCTION dashboard_job_keys(job_status text, job_due date, job_created timestamptz)
RETURNS TABLE (counter text, status text, day date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'job_status', job_status, '-infinity'::date
    UNION ALL
    SELECT 'open_due', '', job_due
    WHERE job_due IS NOT NULL AND job_status NOT IN ('completed', 'cancelled')
    UNION ALL
    SELECT 'job_month', '', date_trunc('month', job_created AT TIME ZONE 'UTC')::date
$$;

-- Park the deltas of one statement on jobs, and tell the API workers which answers it changed.
CREATE FUNCTION dashboard_jobs_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    parked bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_pending AS p (txid, deltas)
        SELECT txid_current(), array_agg(ROW(counter, status, day, 0, n)::dashboard_delta)
        FROM (SELECT k.counter, k.status, k.day, count(*) AS n
              FROM new_rows r, dashboard_job_keys(r.status, r.due_date, r.created_at) k
              GROUP BY k.counter, k.status, k.day) d
        HAVING count(*) > 0
        ON CONFLICT (txid) DO UPDATE SET deltas = p.deltas || excluded.deltas;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_pending AS p (txid, deltas)
        SELECT txid_current(), array_agg(ROW(counter, status, day, 0, -n)::dashboard_delta)
        FROM (SELECT k.counter, k.status, k.day, count(*) AS n
              FROM old_rows r, dashboard_job_keys(r.status, r.due_date, r.created_at) k
              GROUP BY k.counter, k.status, k.day) d
        HAVING count(*) > 0
        ON CONFLICT (txid) DO UPDATE SET deltas = p.deltas || excluded.deltas;
    ELSE
        INSERT INTO dashboard_pending AS p (txid, deltas)
        SELECT txid_current(), array_agg(ROW(counter, status, day, 0, n)::dashboard_delta)
        FROM (SELECT k.counter, k.status, k.day, sum(r.sign) AS n
              FROM (SELECT 1 AS sign, status, due_date, created_at FROM new_rows
                    UNION ALL
                    SELECT -1, status, due_date, created_at FROM old_rows) r,
                   dashboard_job_keys(r.status, r.due_date, r.created_at) k
              GROUP BY k.counter, k.status, k.day
              HAVING sum(r.sign) <> 0) d
        HAVING count(*) > 0
        ON CONFLICT (txid) DO UPDATE SET deltas = p.deltas || excluded.deltas;
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
        INSERT INTO dashboard_pending AS p (txid, deltas)
        SELECT txid_current(), array_agg(ROW('step', status, '-infinity', assigned_to, n)::dashboard_delta)
        FROM (SELECT assigned_to, status, count(*) AS n FROM new_rows
              WHERE assigned_to IS NOT NULL GROUP BY assigned_to, status) d
        HAVING count(*) > 0
        ON CONFLICT (txid) DO UPDATE SET deltas = p.deltas || excluded.deltas;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_pending AS p (txid, deltas)
        SELECT txid_current(), array_agg(ROW('step', status, '-infinity', assigned_to, -n)::dashboard_delta)
        FROM (SELECT assigned_to, status, count(*) AS n FROM old_rows
              WHERE assigned_to IS NOT NULL GROUP BY assigned_to, status) d
        HAVING count(*) > 0
        ON CONFLICT (txid) DO UPDATE SET deltas = p.deltas || excluded.deltas;
    ELSE
        INSERT INTO dashboard_pending AS p (txid, deltas)
        SELECT txid_current(), array_agg(ROW('step', status, '-infinity', assigned_to, n)::dashboard_delta)
        FROM (SELECT r.assigned_to, r.status, sum(r.sign) AS n
              FROM (SELECT 1 AS sign, assigned_to, status FROM new_rows
                    UNION ALL
                    SELECT -1, assigned_to, status FROM old_rows) r
              WHERE r.assigned_to IS NOT NULL
              GROUP BY r.assigned_to, r.status
              HAVING sum(r.sign) <> 0) d
        HAVING count(*) > 0
        ON CONFLICT (txid) DO UPDATE SET deltas = p.deltas || excluded.deltas;
    END IF;
    GET DIAGNOSTICS parked = ROW_COUNT;
    IF parked > 0 THEN
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/stats');
    END IF;
    RETURN NULL;
END;
$$;

-- At commit: apply this transaction's deltas in one statement, counter rows in key order.
CREATE FUNCTION dashboard_apply_pending() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    WITH parked AS (
        DELETE FROM dashboard_pending WHERE txid = txid_current() RETURNING deltas
    )
    INSERT INTO dashboard_counts AS c (counter, status, day, user_id, n)
    SELECT d.counter, d.status, d.day, d.user_id, sum(d.n)
    FROM parked, unnest(parked.deltas) AS d
    GROUP BY d.counter, d.status, d.day, d.user_id
    HAVING sum(d.n) <> 0
    ORDER BY d.counter, d.status, d.day, d.user_id
    ON CONFLICT (counter, status, day, user_id) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END;
$$;

-- TRUNCATE has no transition table: reset the counters of the truncated table, and drop this
-- transaction's parked deltas for them. TRUNCATE holds an exclusive lock: no other writer is in flight.
CREATE FUNCTION dashboard_table_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    reset text[] := CASE WHEN TG_TABLE_NAME = 'jobs' THEN '{job_status,open_due,job_month}'::text[]
                         ELSE '{step}'::text[] END;
BEGIN
    UPDATE dashboard_pending
    SET deltas = ARRAY(SELECT d FROM unnest(deltas) d WHERE d.counter <> ALL (reset))
    WHERE txid = txid_current();
    DELETE FROM dashboard_counts WHERE counter = ANY (reset);
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

-- Fires once per transaction (later statements update the same pending row), at commit.
CREATE CONSTRAINT TRIGGER dashboard_pending_apply AFTER INSERT ON dashboard_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_apply_pending();

CREATE TRIGGER dashboard_users_notify AFTER INSERT OR DELETE OR UPDATE OF role, is_active OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/stats');
CREATE TRIGGER dashboard_machines_notify AFTER INSERT OR DELETE OR UPDATE OF status, is_active OR TRUNCATE
    ON machines FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/stats');
CREATE TRIGGER dashboard_customers_notify AFTER UPDATE OF name ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/recent-jobs');

-- Every count recomputed from the base tables, written independently of the triggers above so that
-- `flask dashboard verify` can catch a mistake in either; one pass over jobs, one over job_steps.
CREATE VIEW dashboard_expected_counts AS
SELECT CASE WHEN grouping(j.status) = 0 THEN 'job_status'
            WHEN grouping(j.open_due) = 0 THEN 'open_due'
            ELSE 'job_month' END AS counter,
       coalesce(j.status, '') AS status,
       coalesce(j.open_due, j.month, '-infinity') AS day,
       0::bigint AS user_id,
       count(*) AS n
FROM (SELECT status,
             CASE WHEN status IN ('completed', 'cancelled') THEN NULL ELSE due_date END AS open_due,
             date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month
      FROM jobs) j
GROUP BY GROUPING SETS ((j.status), (j.open_due), (j.month))
HAVING grouping(j.open_due) = 1 OR j.open_due IS NOT NULL
UNION ALL
SELECT 'step', status, '-infinity', assigned_to, count(*)
FROM job_steps WHERE assigned_to IS NOT NULL
GROUP BY assigned_to, status;

-- Counters that disagree with the base tables (empty when all is well; a 0 row counts as absent).
CREATE VIEW dashboard_counter_drift AS
SELECT counter, status, day, user_id, sum(expected) AS expected, sum(actual) AS actual
FROM (SELECT counter, status, day, user_id, n AS expected, 0 AS actual FROM dashboard_expected_counts
      UNION ALL
      SELECT counter, status, day, user_id, 0, n FROM dashboard_counts) c
GROUP BY counter, status, day, user_id
HAVING sum(expected) <> sum(actual);

-- Recount every counter from the base tables; return how many were wrong. Writers wait meanwhile.
CREATE FUNCTION dashboard_rebuild_counters() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    expected dashboard_delta[];
    wrong bigint;
BEGIN
    LOCK TABLE jobs, job_steps IN SHARE MODE;
    SELECT coalesce(array_agg(ROW(counter, status, day, user_id, n)::dashboard_delta), '{}')
    INTO expected FROM dashboard_expected_counts;
    SELECT count(*) INTO wrong FROM (
        SELECT 1
        FROM (SELECT counter, status, day, user_id, n AS e, 0 AS a FROM unnest(expected)
              UNION ALL
              SELECT counter, status, day, user_id, 0, n FROM dashboard_counts) c
        GROUP BY counter, status, day, user_id
        HAVING sum(e) <> sum(a)) w;
    IF wrong > 0 THEN
        DELETE FROM dashboard_counts;
        INSERT INTO dashboard_counts (counter, status, day, user_id, n)
        SELECT counter, status, day, user_id, n FROM unnest(expected)
        ORDER BY counter, status, day, user_id;
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/');
    END IF;
    RETURN wrong;
END;
$$;

-- Count what is already there (a database migrated with jobs in it).
SELECT dashboard_rebuild_counters();

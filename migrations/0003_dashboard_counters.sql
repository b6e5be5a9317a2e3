-- Dashboard counts kept by the database itself, so GET /api/dashboard/stats costs the same at ten jobs
-- or ten million, whoever writes (the API, a script, psql).
--
-- How: statement-level triggers with transition tables turn each statement into a few aggregated deltas
-- (a 10,000-row UPDATE gives one delta row per counter it moves, not 10,000 counter updates) and append
-- them to dashboard_count_deltas. Writers only ever insert: no writer locks or waits for a counter row,
-- so concurrent writers cannot deadlock on counters whatever order they write jobs and steps in (PATCH
-- /api/steps writes a step and then its job; POST /api/jobs a job and then its steps), and a hot count
-- (the 'draft' jobs) never serializes them. Readers add the deltas to dashboard_count_base (the view
-- dashboard_counts). Now and then (one statement in 50, at random) a writer folds the committed deltas
-- into the base rows: one compactor at a time (a try-lock, so nobody waits), base rows in key order.
-- The same triggers pg_notify('cache_invalidate', <cache key prefix>) so every API worker drops the
-- dashboard answers a write changed (apps/api/listener.py); the notification is delivered at commit.

-- Key columns a counter does not use hold '' / '-infinity' / 0 (NULL cannot be part of a primary key).
CREATE TABLE dashboard_count_base (
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

-- What statements added or removed since the last compaction. Its heap churns (every delta is deleted
-- again), so readers and the compactor go through the index, which skips dead entries, and vacuum comes
-- after a few hundred dead rows rather than 20 % of the table.
CREATE TABLE dashboard_count_deltas (
    counter text NOT NULL,
    status  text NOT NULL,
    day     date NOT NULL,
    user_id bigint NOT NULL,
    n       bigint NOT NULL
) WITH (autovacuum_vacuum_threshold = 200, autovacuum_vacuum_scale_factor = 0);
CREATE INDEX idx_dashboard_count_deltas_key ON dashboard_count_deltas (counter, status, day, user_id);

-- The counts now: base plus deltas (filters on the key columns reach both tables).
CREATE VIEW dashboard_counts AS
SELECT counter, status, day, user_id, sum(n)::bigint AS n
FROM (SELECT counter, status, day, user_id, n FROM dashboard_count_base
      UNION ALL
      SELECT counter, status, day, user_id, n FROM dashboard_count_deltas) c
GROUP BY counter, status, day, user_id;

-- Fold the committed deltas into the base rows. Skipped when another transaction is compacting (never
-- wait: the caller is a writer) and outside READ COMMITTED (a snapshot could then see deltas that a
-- later compactor already folded).
CREATE FUNCTION dashboard_compact_counts() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock(7402117005) THEN
        RETURN;
    END IF;
    WITH moved AS (
        DELETE FROM dashboard_count_deltas
        WHERE counter = ANY ('{job_status,open_due,job_month,step}')  -- every delta, found by the index
        RETURNING counter, status, day, user_id, n
    )
    INSERT INTO dashboard_count_base AS c (counter, status, day, user_id, n)
    SELECT counter, status, day, user_id, sum(n) FROM moved
    GROUP BY counter, status, day, user_id
    HAVING sum(n) <> 0
    ORDER BY counter, status, day, user_id
    ON CONFLICT (counter, status, day, user_id) DO UPDATE SET n = c.n + excluded.n;
    DELETE FROM dashboard_count_base WHERE n = 0;
END;
$$;

-- The counters one job contributes to: its status, its due date while open, its month of creation (UTC).
CREATE FUNCTION dashboard_job_keys(job_status text, job_due date, job_created timestamptz)
RETURNS TABLE (counter text, status text, day date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'job_status', job_status, '-infinity'::date
    UNION ALL
    SELECT 'open_due', '', job_due
    WHERE job_due IS NOT NULL AND job_status NOT IN ('completed', 'cancelled')
    UNION ALL
    -- All open jobs with a due date in one row: overdue = this - those due today or later, a sum over
    -- the days ahead only, however many years of history lie behind.
    SELECT 'open_due', 'total', '-infinity'::date
    WHERE job_due IS NOT NULL AND job_status NOT IN ('completed', 'cancelled')
    UNION ALL
    SELECT 'job_month', '', date_trunc('month', job_created AT TIME ZONE 'UTC')::date
$$;

-- Append the deltas of one statement on jobs, and tell the API workers which answers it changed.
CREATE FUNCTION dashboard_jobs_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT k.counter, k.status, k.day, 0, count(*)
        FROM new_rows r, dashboard_job_keys(r.status, r.due_date, r.created_at) k
        GROUP BY k.counter, k.status, k.day;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT k.counter, k.status, k.day, 0, -count(*)
        FROM old_rows r, dashboard_job_keys(r.status, r.due_date, r.created_at) k
        GROUP BY k.counter, k.status, k.day;
    ELSE
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT k.counter, k.status, k.day, 0, sum(r.sign)
        FROM (SELECT 1 AS sign, status, due_date, created_at FROM new_rows
              UNION ALL
              SELECT -1, status, due_date, created_at FROM old_rows) r,
             dashboard_job_keys(r.status, r.due_date, r.created_at) k
        GROUP BY k.counter, k.status, k.day
        HAVING sum(r.sign) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 THEN
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/');
        IF random() < 0.02 THEN
            PERFORM dashboard_compact_counts();
        END IF;
    ELSIF TG_OP = 'UPDATE' AND EXISTS (SELECT FROM new_rows) THEN
        -- No count moved, but a title, number, customer or due date shown in the recent jobs may have.
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/recent-jobs');
    END IF;
    RETURN NULL;
END;
$$;

-- Append the deltas of one statement on job_steps (assigned steps only: the dashboard counts the caller's).
CREATE FUNCTION dashboard_steps_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT 'step', status, '-infinity', assigned_to, count(*)
        FROM new_rows WHERE assigned_to IS NOT NULL
        GROUP BY assigned_to, status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT 'step', status, '-infinity', assigned_to, -count(*)
        FROM old_rows WHERE assigned_to IS NOT NULL
        GROUP BY assigned_to, status;
    ELSE
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT 'step', r.status, '-infinity', r.assigned_to, sum(r.sign)
        FROM (SELECT 1 AS sign, assigned_to, status FROM new_rows
              UNION ALL
              SELECT -1, assigned_to, status FROM old_rows) r
        WHERE r.assigned_to IS NOT NULL
        GROUP BY r.assigned_to, r.status
        HAVING sum(r.sign) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 THEN
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/stats');
        IF random() < 0.02 THEN
            PERFORM dashboard_compact_counts();
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

-- TRUNCATE has no transition table: reset the counters of the truncated table. TRUNCATE is for
-- maintenance windows: it waits for the writers of its table, and a compaction in flight waits for it.
CREATE FUNCTION dashboard_table_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    reset text[] := CASE WHEN TG_TABLE_NAME = 'jobs' THEN '{job_status,open_due,job_month}'::text[]
                         ELSE '{step}'::text[] END;
BEGIN
    DELETE FROM dashboard_count_deltas WHERE counter = ANY (reset);
    DELETE FROM dashboard_count_base WHERE counter = ANY (reset);
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

CREATE TRIGGER dashboard_users_notify AFTER INSERT OR DELETE OR UPDATE OF role, is_active OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/stats');
CREATE TRIGGER dashboard_machines_notify AFTER INSERT OR DELETE OR UPDATE OF status, is_active OR TRUNCATE
    ON machines FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/stats');
CREATE TRIGGER dashboard_customers_notify AFTER UPDATE OF name ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/recent-jobs');

-- Every count recomputed from the base tables, written independently of the triggers above so that
-- `flask dashboard verify` can catch a mistake in either; one pass over jobs, one over job_steps, and
-- the open jobs' total from the partial index of open jobs.
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
SELECT 'open_due', 'total', '-infinity', 0, count(*)
FROM jobs WHERE due_date IS NOT NULL AND status NOT IN ('completed', 'cancelled')
HAVING count(*) > 0
UNION ALL
SELECT 'step', status, '-infinity', assigned_to, count(*)
FROM job_steps WHERE assigned_to IS NOT NULL
GROUP BY assigned_to, status;

-- Counters that disagree with the base tables (empty when all is well; a 0 count is an absent one).
CREATE VIEW dashboard_counter_drift AS
SELECT counter, status, day, user_id, sum(expected)::bigint AS expected, sum(actual)::bigint AS actual
FROM (SELECT counter, status, day, user_id, n AS expected, 0 AS actual FROM dashboard_expected_counts
      UNION ALL
      SELECT counter, status, day, user_id, 0, n FROM dashboard_counts) c
GROUP BY counter, status, day, user_id
HAVING sum(expected) <> sum(actual);

-- Recount every counter from the base tables; return how many were wrong. Writers wait meanwhile.
CREATE FUNCTION dashboard_rebuild_counters() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    wrong bigint;
BEGIN
    LOCK TABLE jobs, job_steps IN SHARE MODE;
    PERFORM pg_advisory_xact_lock(7402117005);  -- no compaction meanwhile
    CREATE TEMP TABLE dashboard_rebuilt ON COMMIT DROP AS SELECT * FROM dashboard_expected_counts;
    SELECT count(*) INTO wrong FROM (
        SELECT 1
        FROM (SELECT counter, status, day, user_id, n AS e, 0 AS a FROM dashboard_rebuilt
              UNION ALL
              SELECT counter, status, day, user_id, 0, n FROM dashboard_counts) c
        GROUP BY counter, status, day, user_id
        HAVING sum(e) <> sum(a)) w;
    DELETE FROM dashboard_count_deltas;
    DELETE FROM dashboard_count_base;
    INSERT INTO dashboard_count_base (counter, status, day, user_id, n)
    SELECT counter, status, day, user_id, n FROM dashboard_rebuilt
    ORDER BY counter, status, day, user_id;
    DROP TABLE dashboard_rebuilt;
    IF wrong > 0 THEN
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/');
    END IF;
    RETURN wrong;
END;
$$;

-- Count what is already there (a database migrated with jobs in it).
SELECT dashboard_rebuild_counters();

-- The unread count of GET /api/notifications kept like the dashboard's counts (migration 0003): one
-- 'unread' counter per user, appended to as deltas by statement triggers on notifications and folded by
-- the same compaction. The list counted the user's unread rows on every call, O(unread): 12 ms for a user
-- with 50,000 unread against 2 ms for the page itself (bench/audit_lists.py, issue 21). Now O(1).

ALTER TABLE dashboard_count_base DROP CONSTRAINT dashboard_count_base_counter_check;
ALTER TABLE dashboard_count_base ADD CONSTRAINT dashboard_count_base_counter_check
    CHECK (counter IN ('job_status', 'open_due', 'job_month', 'step', 'unread'));

-- As in 0003, with 'unread' among the deltas it folds.
CREATE OR REPLACE FUNCTION dashboard_compact_counts() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock(7402117005) THEN
        RETURN;
    END IF;
    WITH moved AS (
        DELETE FROM dashboard_count_deltas
        WHERE counter = ANY ('{job_status,open_due,job_month,step,unread}')  -- every delta, found by the index
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

-- Append the unread deltas of one statement on notifications, one row per user whose count it moved.
CREATE FUNCTION notifications_unread_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT 'unread', '', '-infinity', user_id, count(*)
        FROM new_rows WHERE NOT is_read
        GROUP BY user_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT 'unread', '', '-infinity', user_id, -count(*)
        FROM old_rows WHERE NOT is_read
        GROUP BY user_id;
    ELSE
        INSERT INTO dashboard_count_deltas (counter, status, day, user_id, n)
        SELECT 'unread', '', '-infinity', r.user_id, sum(r.sign)
        FROM (SELECT 1 AS sign, user_id FROM new_rows WHERE NOT is_read
              UNION ALL
              SELECT -1, user_id FROM old_rows WHERE NOT is_read) r
        GROUP BY r.user_id
        HAVING sum(r.sign) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 AND random() < 0.02 THEN
        PERFORM dashboard_compact_counts();
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER notifications_unread_insert AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_unread_changed();
CREATE TRIGGER notifications_unread_update AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notifications_unread_changed();
CREATE TRIGGER notifications_unread_delete AFTER DELETE ON notifications
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_unread_changed();
CREATE TRIGGER notifications_unread_truncate AFTER TRUNCATE ON notifications
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_table_truncated();

-- As in 0003, with notifications' counter.
CREATE OR REPLACE FUNCTION dashboard_table_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    reset text[] := CASE TG_TABLE_NAME WHEN 'jobs' THEN '{job_status,open_due,job_month}'::text[]
                                       WHEN 'notifications' THEN '{unread}'::text[]
                                       ELSE '{step}'::text[] END;
BEGIN
    DELETE FROM dashboard_count_deltas WHERE counter = ANY (reset);
    DELETE FROM dashboard_count_base WHERE counter = ANY (reset);
    PERFORM pg_notify('cache_invalidate', '/api/dashboard/');
    RETURN NULL;
END;
$$;

-- The expected counts (what `flask dashboard verify` compares with) gain the unread ones: the view of
-- 0003/0060 keeps its body under a new name, and the drift view is made again on the new one (a view
-- refers to another by identity, not by name).
ALTER VIEW dashboard_expected_counts RENAME TO dashboard_expected_work_counts;
CREATE VIEW dashboard_expected_counts AS
SELECT counter, status, day, user_id, n FROM dashboard_expected_work_counts
UNION ALL
SELECT 'unread', '', '-infinity', user_id, count(*)
FROM notifications WHERE NOT is_read
GROUP BY user_id;

CREATE OR REPLACE VIEW dashboard_counter_drift AS
SELECT counter, status, day, user_id, sum(expected)::bigint AS expected, sum(actual)::bigint AS actual
FROM (SELECT counter, status, day, user_id, n AS expected, 0 AS actual FROM dashboard_expected_counts
      UNION ALL
      SELECT counter, status, day, user_id, 0, n FROM dashboard_counts) c
GROUP BY counter, status, day, user_id
HAVING sum(expected) <> sum(actual);

-- As in 0003, holding notifications' writers too while it recounts.
CREATE OR REPLACE FUNCTION dashboard_rebuild_counters() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    wrong bigint;
BEGIN
    LOCK TABLE jobs, job_steps, notifications IN SHARE MODE;
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

-- Count the unread notifications already there (the triggers above hold writers off until this commits).
INSERT INTO dashboard_count_base (counter, status, day, user_id, n)
SELECT 'unread', '', '-infinity', user_id, count(*)
FROM notifications WHERE NOT is_read
GROUP BY user_id
ORDER BY user_id;

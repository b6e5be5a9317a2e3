-- The cached overdue list (GET /api/dashboard/overdue-jobs) shows priorities, titles and customers: the
-- counters' trigger (migration 0003) drops cached dashboard answers only when a count moves, so a change of
-- an overdue job that moves no count (its priority, its title) or a customer's new name drops that list
-- here, once per statement.
CREATE FUNCTION dashboard_overdue_jobs_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM new_rows n WHERE job_is_overdue(n.status, n.due_date)) THEN
        PERFORM pg_notify('cache_invalidate', '/api/dashboard/overdue-jobs');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_overdue_list_changed
    AFTER UPDATE ON jobs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_overdue_jobs_changed();

-- A customer's new name shows in the overdue list as in the recent jobs.
CREATE TRIGGER dashboard_customers_overdue_notify AFTER UPDATE OF name ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/overdue-jobs');

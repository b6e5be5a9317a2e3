-- The overdue rule, written once: a job is open while it is not completed or cancelled, and overdue when it
-- is open with a due date before today, today being the database's date in UTC (one clock for every caller).
-- The functions are plain SQL expressions, so the planner inlines them: a query that says
-- job_is_open(j.status) still matches the partial indexes WHERE status NOT IN ('completed', 'cancelled').

-- Whether a job in `status` still needs work (the dashboard's open jobs, the overdue candidates).
CREATE FUNCTION job_is_open(status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT status NOT IN ('completed', 'cancelled')
$$;

-- Today's date in UTC by the database's clock (the start of the transaction).
CREATE FUNCTION today_utc() RETURNS date
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (now() AT TIME ZONE 'UTC')::date
$$;

-- Whether a job is overdue: open, with a due date before today (NULL when it has no due date).
CREATE FUNCTION job_is_overdue(status text, due_date date) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT job_is_open(status) AND due_date < today_utc()
$$;

-- The dashboard's counters of migration 0003 and their independent recount, on the same rule.
CREATE OR REPLACE FUNCTION dashboard_job_keys(job_status text, job_due date, job_created timestamptz)
RETURNS TABLE (counter text, status text, day date)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'job_status', job_status, '-infinity'::date
    UNION ALL
    SELECT 'open_due', '', job_due
    WHERE job_due IS NOT NULL AND job_is_open(job_status)
    UNION ALL
    -- All open jobs with a due date in one row: overdue = this - those due today or later, a sum over
    -- the days ahead only, however many years of history lie behind.
    SELECT 'open_due', 'total', '-infinity'::date
    WHERE job_due IS NOT NULL AND job_is_open(job_status)
    UNION ALL
    SELECT 'job_month', '', date_trunc('month', job_created AT TIME ZONE 'UTC')::date
$$;

CREATE OR REPLACE VIEW dashboard_expected_counts AS
SELECT CASE WHEN grouping(j.status) = 0 THEN 'job_status'
            WHEN grouping(j.open_due) = 0 THEN 'open_due'
            ELSE 'job_month' END AS counter,
       coalesce(j.status, '') AS status,
       coalesce(j.open_due, j.month, '-infinity') AS day,
       0::bigint AS user_id,
       count(*) AS n
FROM (SELECT status,
             CASE WHEN job_is_open(status) THEN due_date END AS open_due,
             date_trunc('month', created_at AT TIME ZONE 'UTC')::date AS month
      FROM jobs) j
GROUP BY GROUPING SETS ((j.status), (j.open_due), (j.month))
HAVING grouping(j.open_due) = 1 OR j.open_due IS NOT NULL
UNION ALL
SELECT 'open_due', 'total', '-infinity', 0, count(*)
FROM jobs WHERE due_date IS NOT NULL AND job_is_open(status)
HAVING count(*) > 0
UNION ALL
SELECT 'step', status, '-infinity', assigned_to, count(*)
FROM job_steps WHERE assigned_to IS NOT NULL
GROUP BY assigned_to, status;

-- A job's version (migration 0042) changes when it becomes overdue.
CREATE OR REPLACE FUNCTION job_version(the_job_id bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT md5(concat_ws('/', j.xmin, c.xmin, job_is_overdue(j.status, j.due_date),
                         (SELECT string_agg(st.id || ':' || st.xmin, ',' ORDER BY st.step_order)
                          FROM job_steps st WHERE st.job_id = j.id)))
    FROM jobs j
    JOIN customers c ON c.id = j.customer_id
    WHERE j.id = the_job_id
$$;

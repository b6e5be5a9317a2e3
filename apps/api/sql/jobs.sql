-- Jobs: a customer's order, produced through ordered steps. A job is read with its steps and its
-- customer's name in one statement (job_steps_json(), migration 0012), never one query per job.
-- "Overdue" is job_is_overdue() (migration 0060): open, with a due date before the database's today in UTC.
-- The status and customer filters are written as a closed range, not "=": an equality would let the
-- planner drop the leading key of the order (status, created_at, id) and walk idx_jobs_created_at
-- instead, filtering out every newer job of another status (completed jobs are the old ones).

-- name: match-jobs
-- The jobs matching the list filters (status, customer, overdue, due range, q over job number, title and
-- the customer's name): counted as is, and the rows list-jobs pages through ({match}; the planner
-- flattens it, so it keeps its indexes). The customers whose name matches q come as a list of ids
-- (customer_ids, from customer-ids-named: a constant array, hashed when the planner walks an order's
-- index, one btree probe each in a BitmapOr with the trigram indexes when the word is rare), or, when there
-- are too many, as customer_pattern (a hashed subplan). The due range is said on the COALESCE form of the
-- due date that the order's index holds (due_desc: the descending one; the constant CASE folds away when
-- planned), so ?sort=due_date with a range is one index range, and the estimate is that of one condition.
SELECT j.*
FROM jobs j
WHERE (%(status)s::text IS NULL OR (j.status >= %(status)s AND j.status <= %(status)s))
  AND (%(customer_id)s::bigint IS NULL OR (j.customer_id >= %(customer_id)s AND j.customer_id <= %(customer_id)s))
  AND (%(overdue)s::boolean IS NOT TRUE OR job_is_overdue(j.status, j.due_date))
  AND (%(overdue)s::boolean IS NOT FALSE OR job_is_overdue(j.status, j.due_date) IS NOT TRUE)
  AND ((%(due_from)s::date IS NULL AND %(due_to)s::date IS NULL) OR j.due_date IS NOT NULL)
  AND (%(due_from)s::date IS NULL OR CASE WHEN %(due_desc)s THEN COALESCE(j.due_date, '-infinity'::date)
                                          ELSE COALESCE(j.due_date, 'infinity'::date) END >= %(due_from)s)
  AND (%(due_to)s::date IS NULL OR CASE WHEN %(due_desc)s THEN COALESCE(j.due_date, '-infinity'::date)
                                        ELSE COALESCE(j.due_date, 'infinity'::date) END <= %(due_to)s)
  AND (%(pattern)s::text IS NULL OR j.job_number ILIKE %(pattern)s OR j.title ILIKE %(pattern)s
       OR j.customer_id = ANY (%(customer_ids)s::bigint[])
       OR (%(customer_pattern)s::text IS NOT NULL
           AND j.customer_id IN (SELECT c.id FROM customers c WHERE c.name ILIKE %(customer_pattern)s)))
  AND (%(job_number)s::text IS NULL OR j.job_number = %(job_number)s);

-- name: customer-ids-named
-- The ids of the customers whose name matches q's pattern (idx_customers_name_trgm), at most `limit`.
SELECT id FROM customers WHERE name ILIKE %(pattern)s LIMIT %(limit)s;

-- name: list-jobs
-- One page of the jobs of match-jobs ({match}, composed by listing.page_of) with their progress; {cursor_key}, {after} and
-- {order_by} come from a whitelisted listing.Order (each order has its index, migration 0050). The page's
-- ids are cut first, so an index that holds every column the filters need serves it without reading the
-- table (index-only: the overdue list, deep offsets), then only that page's jobs are read and their steps
-- counted.
SELECT j.id, j.job_number, j.customer_id, c.name AS customer_name, j.title, j.description,
       j.status, j.priority, j.due_date, j.created_by, j.created_at, j.updated_at,
       COALESCE(job_is_overdue(j.status, j.due_date), false) AS is_overdue,
       n.steps_total, n.steps_completed, {cursor_key}
FROM (
    SELECT j.id
    FROM ({match}) j
    WHERE {after}
    ORDER BY {order_by}
    LIMIT %(limit)s OFFSET %(offset)s
) page
JOIN jobs j ON j.id = page.id
JOIN customers c ON c.id = j.customer_id
CROSS JOIN LATERAL job_step_counts(j.id) n
ORDER BY {order_by};

-- name: export-jobs
-- Every job of match-jobs ({match}, composed) as the CSV's columns, in the list's order ({order_by}, served by
-- the same indexes), read through a server-side cursor (db.stream): the first rows leave at once.
SELECT j.job_number, j.title, c.name AS customer, j.status, j.due_date, j.priority,
       n.steps_completed, n.steps_total
FROM ({match}) j
JOIN customers c ON c.id = j.customer_id
CROSS JOIN LATERAL job_step_counts(j.id) n
ORDER BY {order_by};

-- name: get-job
-- One job with its steps in order, its progress, its customer's name and its version (the ETag).
SELECT j.id, j.job_number, j.customer_id, c.name AS customer_name, j.title, j.description,
       j.status, j.priority, j.due_date, j.created_by, j.created_at, j.updated_at,
       COALESCE(job_is_overdue(j.status, j.due_date), false) AS is_overdue,
       n.steps_total, n.steps_completed, job_steps_json(j.id) AS steps, job_version(j.id) AS row_version
FROM jobs j
JOIN customers c ON c.id = j.customer_id
CROSS JOIN LATERAL job_step_counts(j.id) n
WHERE j.id = %(job_id)s;

-- name: lock-job
-- A job's own columns, locked until the transaction ends (step changes lock it too).
SELECT id, job_number, customer_id, title, description, status, priority, due_date
FROM jobs WHERE id = %(job_id)s
FOR UPDATE;

-- name: job-version
-- A job's version (its ETag). Run after lock-job, as its own statement: a function called in the locking
-- statement would read that statement's snapshot, from before a concurrent change it waited for.
SELECT job_version(%(job_id)s) AS row_version;

-- name: customer-exists
-- Whether a customer id is known.
SELECT EXISTS (SELECT 1 FROM customers WHERE id = %(customer_id)s) AS found;

-- name: insert-job
-- A new job; its number comes from the column default (a sequence: unique under concurrency).
INSERT INTO jobs (customer_id, title, description, status, priority, due_date, created_by)
VALUES (%(customer_id)s, %(title)s, %(description)s, %(status)s, %(priority)s, %(due_date)s,
        %(created_by)s)
RETURNING id, job_number;

-- name: update-job
-- Write a job's editable fields (the locked row merged with the PATCH: rows.merged).
UPDATE jobs
SET customer_id = %(customer_id)s, title = %(title)s, description = %(description)s, status = %(status)s,
    priority = %(priority)s, due_date = %(due_date)s
WHERE id = %(job_id)s;

-- name: delete-job
-- Remove a job; its steps and their notifications go with it.
DELETE FROM jobs WHERE id = %(job_id)s;

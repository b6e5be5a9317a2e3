-- Set-based data generator. Pseudo-random values come from seed_rand(seed, key, salt), a hash,
-- so the same seed gives the same data whatever order rows are produced in.

-- name: create-seed-rand
-- A deterministic value in [0, 1) for (seed, key, salt).
CREATE OR REPLACE FUNCTION pg_temp.seed_rand(seed int, key bigint, salt int) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (hashint8extended(key, seed::bigint * 1000 + salt) & 2147483647)::float8 / 2147483648.0
$$;

-- name: insert-machines
-- Two or so machines per production process, named after the kind of kit a sign shop runs.
INSERT INTO machines (name, machine_type, process_id, status)
SELECT m.name, m.machine_type, p.id, m.status
FROM (VALUES
    ('Mac Studio 1', 'workstation', 'design', 'active'),
    ('Mac Studio 2', 'workstation', 'design', 'idle'),
    ('Prepress RIP', 'rip server', 'prepress', 'active'),
    ('HP Latex 800W', 'latex printer', 'print', 'active'),
    ('Roland TrueVIS VG3', 'eco-solvent printer', 'print', 'active'),
    ('Canon Arizona 1380', 'UV flatbed', 'print', 'maintenance'),
    ('Kala Mistral 1650', 'laminator', 'laminate', 'idle'),
    ('Zund G3 L-3200', 'digital cutter', 'cut', 'active'),
    ('Graphtec FC9000', 'plotter', 'cut', 'offline'),
    ('Assembly bench A', 'bench', 'assemble', 'idle'),
    ('Install van 1', 'vehicle', 'install', 'active'),
    ('Install van 2', 'vehicle', 'install', 'idle')
) AS m (name, machine_type, process_code, status)
JOIN processes p ON p.code = m.process_code
ON CONFLICT (name) DO NOTHING;

-- name: insert-customers
-- Customers start .. stop, with realistic-looking names, unique emails and phones.
INSERT INTO customers (name, email, phone, company, notes, created_at)
SELECT
    (ARRAY['Northside', 'Harbor', 'Summit', 'Maple', 'Riverside', 'Oak', 'Bluebird', 'Granite',
           'Lakeview', 'Sunrise', 'Cedar', 'Metro', 'Pioneer', 'Golden', 'Evergreen', 'Coastal']
        )[1 + floor(pg_temp.seed_rand(%(seed)s, i, 1) * 16)::int]
    || ' '
    || (ARRAY['Bakery', 'Dental', 'Fitness', 'Realty', 'Cafe', 'Auto Repair', 'Books', 'Florist',
              'Brewing', 'Law Office', 'Clinic', 'Hardware', 'Salon', 'Pizza', 'Vet', 'Gallery']
        )[1 + floor(pg_temp.seed_rand(%(seed)s, i, 2) * 16)::int]
    || ' ' || i,
    'customer' || i || '@example.com',
    '+1-555-' || lpad((i %% 10000000)::text, 7, '0'),
    CASE WHEN pg_temp.seed_rand(%(seed)s, i, 3) < 0.6 THEN 'Company ' || i END,
    NULL,
    %(now)s::timestamptz - interval '3 years' * pg_temp.seed_rand(%(seed)s, i, 4)
FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i;

-- name: insert-jobs
-- Jobs start .. stop of total, created_at rising over three years; the newest 3 %% are open.
WITH c AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM customers),
u AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM users WHERE role IN ('manager', 'admin')),
g AS (
    SELECT i,
           i::float8 / %(total)s AS position,
           pg_temp.seed_rand(%(seed)s, i, 10) AS r,
           %(now)s::timestamptz - interval '3 years'
               + interval '3 years' * ((i - 1)::float8 / %(total)s)
               + interval '1 hour' * pg_temp.seed_rand(%(seed)s, i, 11) AS created_at
    FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i
)
INSERT INTO jobs (customer_id, title, description, status, priority, due_date, created_by, created_at, updated_at)
SELECT
    c.ids[1 + floor(pg_temp.seed_rand(%(seed)s, g.i, 12) * c.n)::int],
    (ARRAY['Storefront banner', 'Vehicle wrap', 'Window decals', 'Trade show booth', 'Yard signs',
           'Menu boards', 'Wayfinding signs', 'Canvas prints', 'Floor graphics', 'Channel letters',
           'Posters', 'Business cards', 'Pull-up banner', 'Wall mural', 'A-frame sign']
        )[1 + floor(pg_temp.seed_rand(%(seed)s, g.i, 13) * 15)::int] || ' #' || g.i,
    NULL,
    CASE
        WHEN g.position > 0.97 THEN
            CASE WHEN g.r < 0.25 THEN 'draft' WHEN g.r < 0.55 THEN 'active'
                 WHEN g.r < 0.85 THEN 'in_progress' ELSE 'on_hold' END
        WHEN g.r < 0.004 THEN 'on_hold'
        WHEN g.r < 0.93 THEN 'completed'
        ELSE 'cancelled'
    END,
    (ARRAY['low', 'normal', 'normal', 'normal', 'high', 'urgent']
        )[1 + floor(pg_temp.seed_rand(%(seed)s, g.i, 14) * 6)::int],
    (g.created_at + interval '1 day' * (3 + floor(pg_temp.seed_rand(%(seed)s, g.i, 15) * 28)))::date,
    u.ids[1 + floor(pg_temp.seed_rand(%(seed)s, g.i, 16) * u.n)::int],
    g.created_at,
    g.created_at
FROM g CROSS JOIN c CROSS JOIN u;

-- name: insert-steps
-- 3 to 8 steps for every job with id in first_id .. last_id, statuses consistent with the job's.
-- The job's urgency copies are written here: the seed may run with triggers off (migration 0040).
WITH p AS (SELECT array_agg(id ORDER BY default_order) AS ids, array_agg(name ORDER BY default_order) AS names,
                  count(*) AS n FROM processes),
o AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM users WHERE role = 'operator'),
m AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n FROM machines),
j AS (
    SELECT id, status, created_at, job_urgency(priority) AS urgency, due_date,
           3 + floor(pg_temp.seed_rand(%(seed)s, id, 20) * 6)::int AS n_steps,
           pg_temp.seed_rand(%(seed)s, id, 21) AS r
    FROM jobs WHERE id BETWEEN %(first_id)s AND %(last_id)s
),
s AS (
    SELECT j.id AS job_id, j.created_at, j.urgency, j.due_date, s AS step_order,
           CASE
               WHEN j.status = 'completed' THEN
                   CASE WHEN pg_temp.seed_rand(%(seed)s, j.id * 16 + s, 22) < 0.05 THEN 'skipped' ELSE 'completed' END
               WHEN j.status = 'cancelled' THEN
                   CASE WHEN s <= floor(j.r * j.n_steps) THEN 'completed' ELSE 'skipped' END
               WHEN j.status IN ('in_progress', 'on_hold') THEN
                   CASE WHEN s < 1 + floor(j.r * (j.n_steps - 1)) THEN 'completed'
                        WHEN s = 1 + floor(j.r * (j.n_steps - 1)) THEN 'in_progress'
                        ELSE 'pending' END
               ELSE 'pending'
           END AS status
    FROM j CROSS JOIN LATERAL generate_series(1, j.n_steps) AS s
)
INSERT INTO job_steps (job_id, step_order, process_id, name, status, assigned_to, machine_id,
                       started_at, completed_at, created_at, updated_at, job_urgency, job_due_date,
                       worked_seconds, timer_started_at)
SELECT
    s.job_id, s.step_order,
    p.ids[1 + (s.step_order - 1) %% p.n],
    p.names[1 + (s.step_order - 1) %% p.n],
    s.status,
    o.ids[1 + floor(pg_temp.seed_rand(%(seed)s, s.job_id * 16 + s.step_order, 23) * o.n)::int],
    CASE WHEN pg_temp.seed_rand(%(seed)s, s.job_id * 16 + s.step_order, 24) < 0.8
         THEN m.ids[1 + floor(pg_temp.seed_rand(%(seed)s, s.job_id * 16 + s.step_order, 25) * m.n)::int] END,
    CASE WHEN s.status IN ('in_progress', 'completed') THEN s.created_at + interval '2 hours' * s.step_order END,
    CASE WHEN s.status = 'completed' THEN s.created_at + interval '2 hours' * s.step_order + interval '90 minutes' END,
    s.created_at,
    s.created_at,
    s.urgency,
    COALESCE(s.due_date, 'infinity'),
    -- the step's time (migration 0110): a completed step worked its 90 minutes, a running one runs since its start
    CASE WHEN s.status = 'completed' THEN 5400 ELSE 0 END,
    CASE WHEN s.status = 'in_progress' THEN s.created_at + interval '2 hours' * s.step_order END
FROM s CROSS JOIN p CROSS JOIN o CROSS JOIN m;

-- name: insert-step-segments
-- The work segment of every started step of the jobs first_id .. last_id (as migration 0110 gave steps
-- started before it): from its start to its finish, or open while it runs.
INSERT INTO step_time_segments (step_id, kind, started_at, ended_at, user_id)
SELECT id, 'work', started_at, completed_at, assigned_to
FROM job_steps
WHERE job_id BETWEEN %(first_id)s AND %(last_id)s AND started_at IS NOT NULL;

-- name: job-id-bounds
-- Highest job id now (0 when there are none).
SELECT coalesce(max(id), 0) AS max_id FROM jobs;

-- name: customer-count
SELECT count(*) AS n FROM customers;

-- name: insert-demo-user
-- One demo user; an existing username is left as it is.
INSERT INTO users (username, full_name, email, role, password_hash)
VALUES (%(username)s, %(full_name)s, %(email)s, %(role)s, %(password_hash)s)
ON CONFLICT (username) DO NOTHING;

-- name: is-superuser
-- Whether the seeding role may skip the foreign-key triggers (a superuser).
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;

-- name: skip-reference-checks
-- No foreign-key triggers for this session: the generated rows are valid by construction.
SET session_replication_role = replica;

-- name: no-parallel-workers
-- One process per statement: the generators call random(), which parallel workers would each seed.
SET max_parallel_workers_per_gather = 0;

-- name: rebuild-dashboard-counters
-- The batches ran without triggers (as superuser), so count the dashboard afresh.
SELECT dashboard_rebuild_counters();

-- name: analyze
-- Fresh planner statistics for the seeded tables.
ANALYZE;

-- Production tracking for a print and sign shop: people, customers, jobs and their steps.
-- Every enumerated value has a CHECK, every time is timestamptz, updated_at is kept by the database.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE
                  CHECK (username ~ '^[A-Za-z0-9_.-]{1,64}$'),
    full_name     text NOT NULL DEFAULT '' CHECK (length(full_name) <= 200),
    email         text UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%' AND length(email) <= 254),
    role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'manager', 'admin')),
    is_active     boolean NOT NULL DEFAULT true,
    password_hash text NOT NULL CHECK (length(password_hash) > 20),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    email      text UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%' AND length(email) <= 254),
    phone      text CHECK (length(phone) <= 50),
    company    text CHECK (length(company) <= 200),
    notes      text CHECK (length(notes) <= 10000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE processes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    default_order integer NOT NULL CHECK (default_order > 0),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE role_process_permissions (
    role        text NOT NULL CHECK (role IN ('viewer', 'operator', 'manager', 'admin')),
    process_id  bigint NOT NULL REFERENCES processes (id) ON DELETE CASCADE,
    can_execute boolean NOT NULL DEFAULT true,
    PRIMARY KEY (role, process_id)
);

CREATE TABLE machines (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    machine_type text NOT NULL CHECK (length(btrim(machine_type)) BETWEEN 1 AND 100),
    process_id   bigint REFERENCES processes (id) ON DELETE SET NULL,
    status       text NOT NULL DEFAULT 'idle'
                 CHECK (status IN ('active', 'idle', 'maintenance', 'offline')),
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Job numbers come from a sequence: unique under any concurrency, no read-then-write race.
CREATE SEQUENCE job_number_seq;

CREATE TABLE jobs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_number  text NOT NULL UNIQUE
                DEFAULT 'JOB-' || lpad(nextval('job_number_seq')::text, 7, '0'),
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    title       text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    description text CHECK (length(description) <= 10000),
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'active', 'in_progress', 'on_hold', 'completed', 'cancelled')),
    priority    text NOT NULL DEFAULT 'normal'
                CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    due_date    date,
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE job_steps (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id       bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    step_order   integer NOT NULL CHECK (step_order BETWEEN 1 AND 100),
    process_id   bigint NOT NULL REFERENCES processes (id) ON DELETE RESTRICT,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'in_progress', 'completed', 'skipped')),
    assigned_to  bigint REFERENCES users (id) ON DELETE SET NULL,
    machine_id   bigint REFERENCES machines (id) ON DELETE SET NULL,
    started_at   timestamptz,
    completed_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_id, step_order),
    CHECK (completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at),
    CHECK (status <> 'completed' OR completed_at IS NOT NULL),
    CHECK (status <> 'in_progress' OR started_at IS NOT NULL)
);

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('step_assigned', 'job_status', 'system')),
    message    text NOT NULL CHECK (length(message) BETWEEN 1 AND 1000),
    job_id     bigint REFERENCES jobs (id) ON DELETE CASCADE,
    step_id    bigint REFERENCES job_steps (id) ON DELETE CASCADE,
    is_read    boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_logs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    action     text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'import', 'login', 'logout')),
    entity     text NOT NULL CHECK (length(entity) BETWEEN 1 AND 50),
    entity_id  bigint,
    changes    jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(changes) = 'object'),
    ip         inet,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Revoked JWTs (logout). Shared by every worker and instance; rows expire with the token.
CREATE TABLE revoked_tokens (
    jti        text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 64),
    token_type text NOT NULL CHECK (token_type IN ('access', 'refresh')),
    user_id    bigint REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER customers_updated_at BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER processes_updated_at BEFORE UPDATE ON processes
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER machines_updated_at BEFORE UPDATE ON machines
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER jobs_updated_at BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER job_steps_updated_at BEFORE UPDATE ON job_steps
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The shop's processes in their usual order, and who may execute them.
INSERT INTO processes (code, name, default_order) VALUES
    ('design', 'Design', 1),
    ('prepress', 'Prepress', 2),
    ('print', 'Print', 3),
    ('laminate', 'Laminate', 4),
    ('cut', 'Cut', 5),
    ('assemble', 'Assemble', 6),
    ('install', 'Install', 7);

INSERT INTO role_process_permissions (role, process_id)
SELECT role, p.id
FROM processes p
CROSS JOIN (VALUES ('operator'), ('manager'), ('admin')) AS r (role);

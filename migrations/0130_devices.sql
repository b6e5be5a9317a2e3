-- Devices on the floor (issue 28): a wall board or a machine's shared tablet signs in with a device token,
-- not a user's password. The token is shown once and kept only as its SHA-256 (it is 256 random bits, not a
-- password: a slow hash would add nothing). Revoking a device (revoked_at) refuses its token and ends every
-- session opened through it (sessions.device_id).

CREATE TABLE devices (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    kind         text NOT NULL CHECK (kind IN ('board', 'tablet')),
    machine_id   bigint REFERENCES machines (id) ON DELETE SET NULL,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- A tablet signs its operator out after this many idle seconds.
    idle_seconds integer NOT NULL DEFAULT 120 CHECK (idle_seconds BETWEEN 15 AND 86400),
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- A PIN session (POST /api/auth/pin) belongs to the tablet it was opened on.
ALTER TABLE sessions ADD COLUMN device_id bigint REFERENCES devices (id) ON DELETE CASCADE;
CREATE INDEX idx_sessions_device_live ON sessions (device_id) WHERE device_id IS NOT NULL AND ended_at IS NULL;

-- The PIN, hashed like the password (scrypt); NULL: the user has no PIN and cannot use a tablet.
ALTER TABLE users ADD COLUMN pin_hash text;

-- Wrong PINs per user: five in fifteen minutes lock that user's PIN logins until the window passes.
CREATE TABLE failed_pins (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id    bigint REFERENCES devices (id) ON DELETE SET NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_failed_pins_user ON failed_pins (user_id, attempted_at);

-- Which device an action came through (a PIN session's writes): no foreign key, as user_id's history outlives
-- rows; devices are revoked, never deleted. Nullable and without a default: no partition is rewritten.
ALTER TABLE audit_logs ADD COLUMN device_id bigint;

-- The board's answer (GET /api/board) is cached in every worker; any change to a step, a job or a machine
-- drops it everywhere through the cache's LISTEN channel (one notice per statement; duplicates in a
-- transaction fold into one).
CREATE FUNCTION notify_board() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cache_invalidate', '/api/board');
    RETURN NULL;
END $$;

CREATE TRIGGER job_steps_board AFTER INSERT OR UPDATE OR DELETE ON job_steps
    FOR EACH STATEMENT EXECUTE FUNCTION notify_board();
CREATE TRIGGER jobs_board AFTER INSERT OR UPDATE OR DELETE ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION notify_board();
CREATE TRIGGER machines_board AFTER INSERT OR UPDATE OR DELETE ON machines
    FOR EACH STATEMENT EXECUTE FUNCTION notify_board();

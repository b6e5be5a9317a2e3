-- The audit trail, partitioned by month of created_at (UTC), so retention (ops/retention.py) detaches,
-- exports and drops a whole month instead of deleting its rows one by one.
--
-- The rows already there stay where they are: the old table becomes the partition audit_logs_legacy for
-- everything before next month (it is dropped, exported, once all of it is past the retention limit). Its
-- indexes are taken over as they are, but attaching it scans it once to check its rows fit and builds the
-- key (id, created_at): writers wait meanwhile, since every write adds an audit row (README "Retention":
-- the time it took per million rows; run it in a quiet hour). An empty table (a new install) is replaced.
-- A default partition catches a row no month covers (a back-dated insert, or a scheduler that did not
-- create the months ahead in time), so an audit row never makes a write fail.

CREATE FUNCTION audit_logs_month_start(at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' $$;

ALTER TABLE audit_logs RENAME TO audit_logs_legacy;
ALTER TABLE audit_logs_legacy RENAME CONSTRAINT audit_logs_pkey TO audit_logs_legacy_pkey;
ALTER INDEX idx_audit_logs_entity RENAME TO idx_audit_logs_legacy_entity;
ALTER INDEX idx_audit_logs_user RENAME TO idx_audit_logs_legacy_user;
ALTER INDEX idx_audit_logs_created_at RENAME TO idx_audit_logs_legacy_created_at;

-- A plain sequence rather than an identity column: identity on a partitioned table needs PostgreSQL 17.
CREATE SEQUENCE audit_logs_id_seq_v2 AS bigint;
SELECT setval('audit_logs_id_seq_v2', coalesce((SELECT max(id) FROM audit_logs_legacy), 0) + 1, false);
ALTER TABLE audit_logs_legacy ALTER COLUMN id DROP IDENTITY;

CREATE TABLE audit_logs (
    id         bigint NOT NULL DEFAULT nextval('audit_logs_id_seq_v2'),
    -- Named as the old table's: attaching it as a partition matches constraints by name.
    user_id    bigint CONSTRAINT audit_logs_user_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    action     text NOT NULL CONSTRAINT audit_logs_action_check
                   CHECK (action IN ('create', 'update', 'delete', 'import', 'login', 'logout')),
    entity     text NOT NULL CONSTRAINT audit_logs_entity_check CHECK (length(entity) BETWEEN 1 AND 50),
    entity_id  bigint,
    changes    jsonb NOT NULL DEFAULT '{}'::jsonb
                   CONSTRAINT audit_logs_changes_check CHECK (jsonb_typeof(changes) = 'object'),
    ip         inet,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- A partitioned table's unique keys must hold its partition key; ids stay unique by their sequence.
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
ALTER SEQUENCE audit_logs_id_seq_v2 OWNED BY audit_logs.id;

-- The list's orders, as before (0050): newest first, by entity, by user.
CREATE INDEX idx_audit_logs_entity ON audit_logs (entity, entity_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_user ON audit_logs (user_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_created_at ON audit_logs (created_at DESC, id DESC);

CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT;

-- Create the partition of the month of `month` unless a partition covers it; answer its name, or NULL.
CREATE FUNCTION audit_logs_add_month(month timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    first timestamptz := audit_logs_month_start(month);
    name text := 'audit_logs_' || to_char(first AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)',
                   name, first, first + interval '1 month');
    RETURN name;
EXCEPTION WHEN invalid_object_definition THEN  -- overlaps a partition that covers it (audit_logs_legacy)
    RETURN NULL;
END $$;

DO $$
DECLARE
    this_month timestamptz := audit_logs_month_start(now());
BEGIN
    IF EXISTS (SELECT 1 FROM audit_logs_legacy) THEN
        -- Its key on id alone gives way to the table's (id, created_at), built while attaching; its other
        -- indexes match the table's and are taken over as they are.
        ALTER TABLE audit_logs_legacy DROP CONSTRAINT audit_logs_legacy_pkey;
        EXECUTE format('ALTER TABLE audit_logs ATTACH PARTITION audit_logs_legacy FOR VALUES FROM (MINVALUE) TO (%L)',
                       this_month + interval '1 month');
    ELSE
        DROP TABLE audit_logs_legacy;
    END IF;
    FOR ahead IN 0..3 LOOP
        PERFORM audit_logs_add_month(this_month + make_interval(months => ahead));
    END LOOP;
END $$;

-- DELETE /api/users/<id> removes a user from the API (404 from then on) but keeps the row, so the audit
-- trail, the jobs it created and its username stay. PATCH {"is_active": false} is the reversible switch.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;
ALTER TABLE users ADD CONSTRAINT users_deleted_inactive CHECK (deleted_at IS NULL OR NOT is_active);

-- The dashboard's user counts leave deleted users out: a deletion changes them.
DROP TRIGGER dashboard_users_notify ON users;
CREATE TRIGGER dashboard_users_notify AFTER INSERT OR DELETE OR UPDATE OF role, is_active, deleted_at OR TRUNCATE
    ON users FOR EACH STATEMENT EXECUTE FUNCTION dashboard_notify('/api/dashboard/stats');

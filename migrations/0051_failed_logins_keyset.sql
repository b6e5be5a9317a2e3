-- GET /api/audit-logs/failed-logins by cursor (issue 15): newest first is (attempted_at, id), one index
-- range whatever the table's size; the old index on attempted_at alone also served the purge, this one does.
DROP INDEX idx_failed_logins_attempted_at;
CREATE INDEX idx_failed_logins_attempted_at ON failed_logins (attempted_at, id);

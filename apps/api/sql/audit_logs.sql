-- The audit trail, read-only: filters are NULL for "any", newest first.

-- name: count-audit-logs
-- How many audit rows match the filters.
SELECT count(*) AS total
FROM audit_logs a
WHERE (%(entity)s::text IS NULL OR a.entity = %(entity)s)
  AND (%(entity_id)s::bigint IS NULL OR a.entity_id = %(entity_id)s)
  AND (%(user_id)s::bigint IS NULL OR a.user_id = %(user_id)s)
  AND (%(action)s::text IS NULL OR a.action = %(action)s);

-- name: list-audit-logs
-- One page of the matching audit rows with the acting user's name, newest first.
SELECT a.id, a.user_id, u.username, a.action, a.entity, a.entity_id, a.changes, host(a.ip) AS ip,
       a.created_at
FROM audit_logs a
LEFT JOIN users u ON u.id = a.user_id
WHERE (%(entity)s::text IS NULL OR a.entity = %(entity)s)
  AND (%(entity_id)s::bigint IS NULL OR a.entity_id = %(entity_id)s)
  AND (%(user_id)s::bigint IS NULL OR a.user_id = %(user_id)s)
  AND (%(action)s::text IS NULL OR a.action = %(action)s)
ORDER BY a.created_at DESC, a.id DESC
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-audit-log
-- One audit row by id.
SELECT a.id, a.user_id, u.username, a.action, a.entity, a.entity_id, a.changes, host(a.ip) AS ip,
       a.created_at
FROM audit_logs a
LEFT JOIN users u ON u.id = a.user_id
WHERE a.id = %(id)s;

-- name: count-failed-logins
-- How many failed logins match the filters.
SELECT count(*) AS total
FROM failed_logins
WHERE (%(username)s::text IS NULL OR username = %(username)s)
  AND (%(ip)s::inet IS NULL OR ip = %(ip)s::inet);

-- name: list-failed-logins
-- One page of failed logins, newest first.
SELECT id, username, host(ip) AS ip, attempted_at
FROM failed_logins
WHERE (%(username)s::text IS NULL OR username = %(username)s)
  AND (%(ip)s::inet IS NULL OR ip = %(ip)s::inet)
ORDER BY attempted_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s;

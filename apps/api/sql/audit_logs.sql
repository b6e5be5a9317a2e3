-- The audit trail: read with filters (NULL for "any", newest first), written by domain/audit.py.

-- name: match-audit-logs
-- The audit rows matching the filters, for the count.
SELECT 1
FROM audit_logs a
WHERE (%(entity)s::text IS NULL OR a.entity = %(entity)s)
  AND (%(entity_id)s::bigint IS NULL OR a.entity_id = %(entity_id)s)
  AND (%(user_id)s::bigint IS NULL OR a.user_id = %(user_id)s)
  AND (%(action)s::text IS NULL OR a.action = %(action)s);

-- name: list-audit-logs
-- One page of the matching audit rows with the acting user's name, newest first.
SELECT a.id, a.user_id, u.username, a.action, a.entity, a.entity_id, a.changes, host(a.ip) AS ip,
       a.device_id, d.name AS device_name, a.created_at, {cursor_key}
FROM audit_logs a
LEFT JOIN users u ON u.id = a.user_id
LEFT JOIN devices d ON d.id = a.device_id
WHERE (%(entity)s::text IS NULL OR a.entity = %(entity)s)
  AND (%(entity_id)s::bigint IS NULL OR a.entity_id = %(entity_id)s)
  AND (%(user_id)s::bigint IS NULL OR a.user_id = %(user_id)s)
  AND (%(action)s::text IS NULL OR a.action = %(action)s)
  AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-audit-log
-- One audit row by id.
SELECT a.id, a.user_id, u.username, a.action, a.entity, a.entity_id, a.changes, host(a.ip) AS ip,
       a.device_id, d.name AS device_name, a.created_at
FROM audit_logs a
LEFT JOIN users u ON u.id = a.user_id
LEFT JOIN devices d ON d.id = a.device_id
WHERE a.id = %(id)s;

-- name: match-failed-logins
-- The failed logins matching the filters, for the count.
SELECT 1
FROM failed_logins
WHERE (%(username)s::text IS NULL OR username = %(username)s)
  AND (%(ip)s::inet IS NULL OR ip = %(ip)s::inet);

-- name: list-failed-logins
-- One page of failed logins, newest first.
SELECT id, username, host(ip) AS ip, attempted_at, {cursor_key}
FROM failed_logins
WHERE (%(username)s::text IS NULL OR username = %(username)s)
  AND (%(ip)s::inet IS NULL OR ip = %(ip)s::inet)
  AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: insert-audit-log
-- One row of the trail, written inside the transaction of the change it records (domain/audit.py).
INSERT INTO audit_logs (user_id, action, entity, entity_id, changes, ip, device_id)
VALUES (%(user_id)s, %(action)s, %(entity)s, %(entity_id)s, %(changes)s, %(ip)s, %(device_id)s);

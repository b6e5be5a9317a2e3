-- Notifications: every statement is scoped to the owner, so another user's id is simply "not found".

-- name: match-notifications
-- The owner's notifications that match (all, or only unread), for the count.
SELECT 1
FROM notifications
WHERE user_id = %(user_id)s AND (NOT %(unread)s OR NOT is_read);

-- name: count-unread-notifications
-- How many of the owner's notifications are unread (the list's `unread`): the counter that triggers keep
-- (migration 0090), base plus deltas, whatever the number of notifications.
SELECT coalesce(sum(n), 0)::bigint AS unread
FROM dashboard_counts
WHERE counter = 'unread' AND status = '' AND day = '-infinity' AND user_id = %(user_id)s;

-- name: list-notifications
-- One page of the owner's notifications, newest first.
SELECT id, kind, message, job_id, step_id, is_read, created_at, {cursor_key}
FROM notifications
WHERE user_id = %(user_id)s AND (NOT %(unread)s OR NOT is_read) AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-notification
-- One of the owner's notifications.
SELECT id, kind, message, job_id, step_id, is_read, created_at, xmin::text AS row_version
FROM notifications WHERE id = %(id)s AND user_id = %(user_id)s;

-- name: lock-notification
-- One of the owner's notifications, locked until the transaction ends.
SELECT id, kind, message, job_id, step_id, is_read, created_at
FROM notifications WHERE id = %(id)s AND user_id = %(user_id)s
FOR UPDATE;

-- name: mark-notification-read
-- Mark one of the owner's notifications read.
UPDATE notifications SET is_read = true
WHERE id = %(id)s AND user_id = %(user_id)s
RETURNING id, kind, message, job_id, step_id, is_read, created_at;

-- name: mark-all-notifications-read
-- Mark every unread notification of the owner read; answer how many changed.
WITH marked AS (
    UPDATE notifications SET is_read = true
    WHERE user_id = %(user_id)s AND NOT is_read
    RETURNING id
)
SELECT count(*) AS marked FROM marked;

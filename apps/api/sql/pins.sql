-- PINs for the shared tablet: set one, sign in with one, and the per-user lock after wrong ones.

-- name: set-pin
-- Store a user's PIN hash (no row: no such user).
UPDATE users SET pin_hash = %(pin_hash)s WHERE id = %(id)s AND deleted_at IS NULL RETURNING id;

-- name: lock-user-for-pin
-- The user a PIN login checks, locked against other PIN logins of the same user so that wrong PINs are
-- counted one after another (NO KEY UPDATE: sessions may still reference the row meanwhile).
SELECT id, username, full_name, role, is_active, pin_hash
FROM users WHERE username = %(username)s AND deleted_at IS NULL
FOR NO KEY UPDATE;

-- name: recent-failures
-- The user's newest wrong PINs within the window (at most `limit`), and the seconds until the oldest of them
-- leaves it: while there are `limit` of them, PIN logins of the user are locked that long.
WITH recent AS (
    SELECT attempted_at FROM failed_pins
    WHERE user_id = %(user_id)s AND attempted_at > now() - make_interval(secs => %(window)s)
    ORDER BY attempted_at DESC
    LIMIT %(limit)s
)
SELECT count(*)::int AS failures,
       coalesce(ceil(extract(epoch FROM min(attempted_at) + make_interval(secs => %(window)s) - now())), 0)::int
           AS seconds_left
FROM recent;

-- name: insert-failed-pin
-- Count one wrong PIN for the user, through this tablet.
INSERT INTO failed_pins (user_id, device_id) VALUES (%(user_id)s, %(device_id)s);

-- name: notify-pin-lock
-- Tell the user, at their next look at their notifications, that their PIN logins were locked.
INSERT INTO notifications (user_id, kind, message) VALUES (%(user_id)s, 'system', %(message)s);

-- name: purge-old-failed-pins
-- Wrong PINs older than a day tell nothing any more.
DELETE FROM failed_pins WHERE attempted_at < now() - interval '1 day';

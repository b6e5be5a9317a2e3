-- Login sessions: start, rotate the refresh token, end, list, and the per-request state check.

-- name: get-session-state
-- The role of a live session's active user (no row: the session's tokens are refused). A session older than
-- its absolute lifetime (SESSION_MAX_AGE seconds from login) is over, however often it was refreshed. Also
-- touches last_used_at, at most once a minute, so the check stays a read almost always.
WITH touched AS (
    UPDATE sessions SET last_used_at = now()
    WHERE id = %(sid)s AND ended_at IS NULL AND last_used_at < now() - interval '60 seconds'
)
SELECT u.role
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = %(sid)s AND s.user_id = %(user_id)s AND s.ended_at IS NULL AND u.is_active
  AND s.created_at > now() - make_interval(secs => %(max_age)s);

-- name: get-session-role
-- The same check without the last-used stamp: what a standby answers while the primary is down.
SELECT u.role
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = %(sid)s AND s.user_id = %(user_id)s AND s.ended_at IS NULL AND u.is_active
  AND s.created_at > now() - make_interval(secs => %(max_age)s);

-- name: insert-session
-- Start a session at login (a PIN login's names its tablet).
INSERT INTO sessions (id, user_id, refresh_jti, expires_at, ip, user_agent, device_id)
VALUES (%(sid)s, %(user_id)s, %(refresh_jti)s, %(expires_at)s, %(ip)s, %(user_agent)s, %(device_id)s);

-- name: rotate-refresh
-- Spend the presented refresh token and name its successor, which expires at the latest when the session's
-- absolute lifetime ends; no row when it was not the live one.
UPDATE sessions s
SET refresh_jti = %(new_jti)s, last_used_at = now(),
    expires_at = least(%(expires_at)s, s.created_at + make_interval(secs => %(max_age)s))
FROM users u
WHERE s.id = %(sid)s AND s.user_id = %(user_id)s AND s.refresh_jti = %(presented_jti)s
  AND s.ended_at IS NULL AND u.id = s.user_id AND u.is_active
RETURNING u.role, s.expires_at, s.device_id;

-- name: end-session
-- End one session of a user (no row when it was not live, or not theirs).
UPDATE sessions SET ended_at = clock_timestamp(), ended_reason = %(reason)s
WHERE id = %(sid)s AND user_id = %(user_id)s AND ended_at IS NULL
RETURNING id;

-- name: end-user-sessions
-- End every live session of a user.
UPDATE sessions SET ended_at = clock_timestamp(), ended_reason = %(reason)s
WHERE user_id = %(user_id)s AND ended_at IS NULL;

-- name: list-live-sessions
-- A user's sessions that still have a usable refresh token, newest first.
SELECT id, created_at, last_used_at, host(ip) AS ip, user_agent, id = %(current_sid)s AS current
FROM sessions
WHERE user_id = %(user_id)s AND ended_at IS NULL AND expires_at > now()
  AND created_at > now() - make_interval(secs => %(max_age)s)
ORDER BY created_at DESC, id;

-- name: purge-old-sessions
-- Sessions whose refresh token expired a month ago have nothing left to tell.
DELETE FROM sessions WHERE expires_at < now() - interval '30 days';

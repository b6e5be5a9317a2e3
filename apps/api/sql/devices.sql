-- Devices on the floor: register, list, revoke, and the per-request token check.

-- name: insert-device
-- Register a device; only the token's hash is kept.
INSERT INTO devices (name, kind, machine_id, token_hash, idle_seconds, created_by)
VALUES (%(name)s, %(kind)s, %(machine_id)s, %(token_hash)s, %(idle_seconds)s, %(created_by)s)
RETURNING id, name, kind, machine_id, idle_seconds, created_at;

-- name: match-devices
-- Every device (revoked ones too, marked), for the count.
SELECT 1 FROM devices d;

-- name: list-devices
-- One page of devices, newest first, with their machine's name and last use.
SELECT d.id, d.name, d.kind, d.machine_id, m.name AS machine_name, d.idle_seconds, d.created_at,
       d.last_used_at, d.revoked_at, {cursor_key}
FROM devices d
LEFT JOIN machines m ON m.id = d.machine_id
WHERE {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: revoke-device
-- Revoke a live device (no row: unknown or revoked already).
UPDATE devices SET revoked_at = clock_timestamp()
WHERE id = %(id)s AND revoked_at IS NULL
RETURNING id, name, kind, machine_id, idle_seconds;

-- name: end-device-sessions
-- End every live session opened through the device (its operators' PIN sessions).
UPDATE sessions SET ended_at = clock_timestamp(), ended_reason = 'revoked'
WHERE device_id = %(id)s AND ended_at IS NULL;

-- name: get-device-by-token
-- The live device holding this token's hash; also stamps its last use, at most once a minute, so the check
-- stays a read almost always.
WITH touched AS (
    UPDATE devices SET last_used_at = now()
    WHERE token_hash = %(token_hash)s AND revoked_at IS NULL
      AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
)
SELECT id, name, kind, machine_id, idle_seconds
FROM devices
WHERE token_hash = %(token_hash)s AND revoked_at IS NULL;

-- name: machine-exists
-- Whether a machine id is known (a device may name one).
SELECT EXISTS (SELECT 1 FROM machines WHERE id = %(machine_id)s) AS found;

-- Users. password_hash never leaves this file's statements except to be written. A deleted user (deleted_at)
-- is no longer part of the API: no statement here reads it.

-- name: match-users
-- The users matching the filters (NULL means "any"), for the count.
SELECT 1
FROM users
WHERE deleted_at IS NULL
  AND (%(role)s::text IS NULL OR role = %(role)s)
  AND (%(is_active)s::boolean IS NULL OR is_active = %(is_active)s);

-- name: list-users
-- One page of the matching users, by username.
SELECT id, username, full_name, email, role, is_active, created_at, updated_at, {cursor_key}
FROM users
WHERE deleted_at IS NULL
  AND (%(role)s::text IS NULL OR role = %(role)s)
  AND (%(is_active)s::boolean IS NULL OR is_active = %(is_active)s)
  AND {after}
ORDER BY {order_by}
LIMIT %(limit)s OFFSET %(offset)s;

-- name: get-user
-- One user by id.
SELECT id, username, full_name, email, role, is_active, created_at, updated_at, xmin::text AS row_version
FROM users WHERE id = %(id)s AND deleted_at IS NULL;

-- name: lock-user
-- One user by id, locked until the transaction ends (read-modify-write of PATCH and DELETE).
SELECT id, username, full_name, email, role, is_active, created_at, updated_at, xmin::text AS row_version
FROM users WHERE id = %(id)s AND deleted_at IS NULL
FOR UPDATE;

-- name: insert-user
-- Create a user with an already hashed password.
INSERT INTO users (username, full_name, email, role, is_active, password_hash)
VALUES (%(username)s, %(full_name)s, %(email)s, %(role)s, %(is_active)s, %(password_hash)s)
RETURNING id, username, full_name, email, role, is_active, created_at, updated_at, xmin::text AS row_version;

-- name: update-user
-- Replace a user's editable fields; a NULL password_hash keeps the current password.
UPDATE users
SET full_name = %(full_name)s, email = %(email)s, role = %(role)s, is_active = %(is_active)s,
    password_hash = COALESCE(%(password_hash)s, password_hash)
WHERE id = %(id)s
RETURNING id, username, full_name, email, role, is_active, created_at, updated_at, xmin::text AS row_version;

-- name: delete-user
-- Remove a user from the API: deactivated and marked deleted; the row stays for the audit trail.
UPDATE users SET is_active = false, deleted_at = now()
WHERE id = %(id)s;

-- name: lock-active-admins
-- Every active admin, locked in id order: two admins demoting each other at once take turns here,
-- and the second sees the first one's change (so one active admin always remains).
SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE;

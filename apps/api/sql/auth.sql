-- Login, token revocation and the caller's own record.

-- name: get-user-for-login
-- The user row a login checks the password against.
SELECT id, username, full_name, role, is_active, password_hash
FROM users WHERE username = %(username)s;

-- name: get-me
-- The caller, if still active.
SELECT id, username, full_name, email, role
FROM users WHERE id = %(user_id)s AND is_active;

-- name: revoke-token
-- Record a token as revoked until it would have expired anyway.
INSERT INTO revoked_tokens (jti, token_type, user_id, expires_at)
VALUES (%(jti)s, %(token_type)s, %(user_id)s, to_timestamp(%(expires_at)s))
ON CONFLICT (jti) DO NOTHING;

-- name: purge-expired-revocations
-- Revocations of tokens that have expired anyway are no longer needed.
DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 minute';

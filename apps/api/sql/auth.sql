-- Login, failed logins and the caller's own record.

-- name: get-user-for-login
-- The user row a login checks the password against.
SELECT id, username, full_name, role, is_active, password_hash
FROM users WHERE username = %(username)s;

-- name: get-me
-- The caller, if still active.
SELECT id, username, full_name, email, role
FROM users WHERE id = %(user_id)s AND is_active;

-- name: insert-failed-login
-- Record a failed login: the name tried and where from (never the password).
INSERT INTO failed_logins (username, ip) VALUES (%(username)s, %(ip)s);

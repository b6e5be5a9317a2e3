-- Tokens issued before this moment are refused (set when a user's password changes),
-- so a stolen token dies with the old password. Whole seconds: JWT "iat" has no fraction.

ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity';

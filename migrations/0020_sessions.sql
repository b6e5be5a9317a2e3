-- Login sessions: a login starts one, its access and refresh tokens carry its id ("sid"), and a token is
-- honoured only while its session is live. Refresh rotates refresh_jti (the one refresh token that may be
-- presented next); presenting an older one ends the session (RFC 9700 reuse detection). Ending sessions
-- replaces both the per-token revocation list and the whole-second users.tokens_valid_after cut-off.

CREATE TABLE sessions (
    id           uuid PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_jti  text NOT NULL CHECK (length(refresh_jti) BETWEEN 1 AND 64),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ip           inet,
    user_agent   text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 500),
    ended_at     timestamptz,
    ended_reason text CHECK (ended_reason IN ('logout', 'revoked', 'ended by admin', 'refresh token reused',
                                              'account changed')),
    CHECK ((ended_at IS NULL) = (ended_reason IS NULL))
);

-- A user's live sessions (the list, and ending them all).
CREATE INDEX idx_sessions_user_live ON sessions (user_id) WHERE ended_at IS NULL;
-- Purging long-expired sessions.
CREATE INDEX idx_sessions_expires_at ON sessions (expires_at);

DROP TABLE revoked_tokens;
ALTER TABLE users DROP COLUMN tokens_valid_after;

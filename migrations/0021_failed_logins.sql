-- Failed logins, for admins: the name tried, the client address and the time; never the password.

CREATE TABLE failed_logins (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username     text NOT NULL CHECK (length(username) <= 64),
    ip           inet,
    attempted_at timestamptz NOT NULL DEFAULT now()
);

-- Newest first, and purging old rows.
CREATE INDEX idx_failed_logins_attempted_at ON failed_logins (attempted_at);

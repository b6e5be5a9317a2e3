-- Every ended session is announced on channel 'session_ended' (payload: its id) when its transaction commits,
-- whoever ends it (logout, revocation, an admin, a deactivation or a role change, a reused refresh token, or
-- plain SQL). Each worker's listener keeps what it heard until the session's tokens expire, and refuses them
-- even while it reads sessions from a standby that has not replayed the end (web/sessions.py).

CREATE FUNCTION announce_session_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('session_ended', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_announce_end
    AFTER UPDATE OF ended_at ON sessions
    FOR EACH ROW WHEN (OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL)
    EXECUTE FUNCTION announce_session_end();

"""The demo users as tests see them: their password, the JWT secret, tokens without a login, a login call."""
import secrets
import uuid
from datetime import timedelta

import psycopg2

from tests.support.kept import discard, kept_connection

# A new random secret per run: no secret written in the repository signs or verifies a token anywhere.
TEST_SECRET = "test-" + secrets.token_urlsafe(32)
DEMO_PASSWORD = "demo"


class AuthActions:
    """Make tokens for the demo users without a login round trip (scrypt is slow on purpose).

    Each token starts a session of its own in the database, as a login would; access tokens are fresh.
    The sessions are inserted through the run's kept connection to that database (tests/support/kept.py: a
    new connection per token cost a backend start each, hundreds per run), reopened once if a test
    restarted the server.
    """

    def __init__(self, app, database_url):
        self.app = app
        self.database_url = database_url
        with kept_connection(database_url, "auth").cursor() as cur:  # checked: the server may have restarted
            cur.execute("SELECT username, id, role FROM users")
            self.users = {name: (user_id, role) for name, user_id, role in cur.fetchall()}

    def user_id(self, username):
        return self.users[username][0]

    def start_session(self, username):
        """Insert a live session of `username`; return (session id, its refresh token id)."""
        sid, refresh_jti = str(uuid.uuid4()), str(uuid.uuid4())
        params = (sid, self.user_id(username), refresh_jti)
        try:
            self._insert_session(params)
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            discard(self.database_url, "auth")  # the server restarted under a fault test: once more, reconnected
            self._insert_session(params)
        return sid, refresh_jti

    def _insert_session(self, params):
        with kept_connection(self.database_url, "auth", check=False).cursor() as cur:
            cur.execute("INSERT INTO sessions (id, user_id, refresh_jti, expires_at) "
                        "VALUES (%s, %s, %s, now() + interval '30 days')", params)

    def token(self, username, refresh=False, fresh=True):
        from flask_jwt_extended import create_access_token, create_refresh_token

        user_id, role = self.users[username]
        sid, refresh_jti = self.start_session(username)
        claims = {"role": role, "sid": sid}
        with self.app.app_context():
            if refresh:
                return create_refresh_token(identity=str(user_id), additional_claims=dict(claims, jti=refresh_jti))
            return create_access_token(identity=str(user_id), additional_claims=claims,
                                       fresh=timedelta(minutes=15) if fresh else False)

    def headers(self, username, refresh=False, fresh=True):
        return {"Authorization": f"Bearer {self.token(username, refresh, fresh)}"}


def login(client, username="admin", password=DEMO_PASSWORD, forwarded_for=None):
    """POST the credentials to /api/auth/login through `client`; return the response."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/auth/login", json={"username": username, "password": password}, headers=headers)


def get_as(client, auth, path, user, **headers):
    """GET `path` through `client` with `user`'s token and `headers`."""
    return client.get(path, headers={**auth.headers(user), **headers})

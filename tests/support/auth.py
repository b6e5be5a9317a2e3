"""The demo users as tests see them: their password, the JWT secret, tokens without a login, a login call."""
import psycopg2

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
DEMO_PASSWORD = "demo"


class AuthActions:
    """Make tokens for the demo users without a login round trip (scrypt is slow on purpose)."""

    def __init__(self, app, database_url):
        self.app = app
        conn = psycopg2.connect(database_url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SELECT username, id, role FROM users")
                self.users = {name: (user_id, role) for name, user_id, role in cur.fetchall()}
        finally:
            conn.close()

    def user_id(self, username):
        return self.users[username][0]

    def token(self, username, refresh=False):
        from flask_jwt_extended import create_access_token, create_refresh_token

        user_id, role = self.users[username]
        make = create_refresh_token if refresh else create_access_token
        with self.app.app_context():
            return make(identity=str(user_id), additional_claims={"role": role})

    def headers(self, username, refresh=False):
        return {"Authorization": f"Bearer {self.token(username, refresh)}"}


def login(client, username="admin", password=DEMO_PASSWORD, forwarded_for=None):
    """POST the credentials to /api/auth/login through `client`; return the response."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/auth/login", json={"username": username, "password": password}, headers=headers)


def get_as(client, auth, path, user, **headers):
    """GET `path` through `client` with `user`'s token and `headers`."""
    return client.get(path, headers={**auth.headers(user), **headers})

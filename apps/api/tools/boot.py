"""`make run`: database (embedded unless DATABASE_URL), migrations, demo data, then gunicorn.

Runs gunicorn as a child in the foreground; SIGINT/SIGTERM stop gunicorn and then the
embedded PostgreSQL this script started, so nothing is left behind.
"""
import os
import signal
import subprocess
import sys

from ..config import PROJECT_ROOT, Config, ConfigError, environment
from ..db import Queries, migrate, one_row
from .embedded_pg import DEV_DATABASE, dev_server

DEMO_JOBS = 3000
DEMO_CUSTOMERS = 300


def say(message):
    print(f"[run] {message}", flush=True)


def _start_embedded(config):
    server = dev_server(config.DATA_DIR)
    already_running = server.running_port() is not None
    say(f"embedded PostgreSQL in {server.data_dir} ({'reusing the running server' if already_running else 'starting'})")
    server.start()
    server.create_database(DEV_DATABASE)
    return server, (None if already_running else server)


def _has_users(database_url):
    from ..db import connect

    conn = connect(database_url, "boot")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(Queries("tools.sql").has_users)
            return one_row(cur)[0]
    finally:
        conn.close()


def _serve(env):
    command = [sys.executable, "-m", "gunicorn", "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
               "apps.api:create_app()"]
    child = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    return child.wait()


def main():
    """Bootstrap the database and serve in the foreground until stopped."""
    said = os.environ.get("APP_ENV", "")  # set or not, which Config cannot tell: read here, by the CLI
    if os.environ.get("DATABASE_URL") and not said:
        # A database of one's own may be a production one: demo users (password "demo") and development's
        # relaxed checks only when asked for out loud.
        sys.exit("refusing to start: DATABASE_URL is set but APP_ENV is not; say APP_ENV=production, or "
                 "APP_ENV=development for demo data")
    environ = environment()  # .env.dev's values in development, passed to gunicorn explicitly below
    try:
        config = Config.from_env(environ).validate()
    except ConfigError as exc:
        sys.exit(f"refusing to start: {exc}")

    started_here = None
    if config.DATABASE_URL:
        # Migrations and the seed need a session (an advisory lock): the direct URL when PgBouncer is in front.
        database_url = config.DATABASE_DIRECT_URL or config.DATABASE_URL
        say("using DATABASE_URL" + (" (DATABASE_DIRECT_URL for migrations)" if config.DATABASE_DIRECT_URL else ""))
    elif config.is_production:
        sys.exit("refusing to start: production needs DATABASE_URL")
    else:
        server, started_here = _start_embedded(config)
        database_url = server.url(DEV_DATABASE)
    try:
        migrate.upgrade(database_url, log=lambda line: say(line), lock_timeout_ms=config.MIGRATION_LOCK_TIMEOUT_MS,
                        attempts=config.MIGRATION_LOCK_ATTEMPTS, lock_wait_s=config.MIGRATION_LOCK_WAIT_S)
        # Demo data: on the embedded server, or on one's own database with APP_ENV=development said above.
        if config.APP_ENV == "development" and not _has_users(database_url):
            from .seed import seed

            say(f"seeding demo data ({DEMO_CUSTOMERS} customers, {DEMO_JOBS} jobs)")
            seed(database_url, jobs=DEMO_JOBS, customers=DEMO_CUSTOMERS,
                 password=config.DEMO_PASSWORD, progress=say)
        env = dict(environ, DATABASE_URL=config.DATABASE_URL or database_url, APP_ENV=config.APP_ENV)
        port = env.setdefault("PORT", "5000")
        host = env.get("BIND", "127.0.0.1")
        say(f"listening on http://{host}:{port}  (Ctrl-C stops everything)")
        if not config.is_production:
            credentials = f'{{"username": "admin", "password": "{config.DEMO_PASSWORD}"}}'
            say(f"log in: curl -s -X POST http://127.0.0.1:{port}/api/auth/login "
                f"-H 'Content-Type: application/json' -d '{credentials}'")
        code = _serve(env)
    finally:
        if started_here is not None:
            say("stopping embedded PostgreSQL")
            started_here.stop()
    sys.exit(code)


if __name__ == "__main__":
    main()

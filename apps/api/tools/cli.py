"""The `flask --app apps.api` commands: `db upgrade|status|backup|restore`, `seed`, `dashboard verify|rebuild`,
`notify-overdue`, `retention`."""
import click
import psycopg2.extensions
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .. import db
from ..db import Queries, migrate, one_row
from . import backup
from .embedded_pg import running_dev_url
from .seed import seed

db_cli = AppGroup("db", help="Apply and list schema migrations; back the database up and restore it.")


def _database_url():
    """Return the direct URL (DATABASE_DIRECT_URL, else DATABASE_URL: migrations take a session advisory
    lock), or in development the database of the embedded server `make run` started."""
    url = current_app.config["DATABASE_DIRECT_URL"] or current_app.config["DATABASE_URL"]
    if not url and current_app.config["APP_ENV"] == "development":
        url = running_dev_url(current_app.config["DATA_DIR"])
    if not url:
        raise click.ClickException(
            "no database: set DATABASE_URL, or start the development server with `make run`")
    return url


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations in order."""
    try:
        applied = migrate.upgrade(_database_url(), log=click.echo,
                                  lock_timeout_ms=current_app.config["MIGRATION_LOCK_TIMEOUT_MS"],
                                  attempts=current_app.config["MIGRATION_LOCK_ATTEMPTS"],
                                  lock_wait_s=current_app.config["MIGRATION_LOCK_WAIT_S"])
    except migrate.MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(applied)} migration(s) applied" if applied else "database is up to date")


@db_cli.command("status")
def db_status():
    """List applied and pending migrations."""
    applied, pending = migrate.status(_database_url())
    for version, name, _, applied_at in applied:
        click.echo(f"applied  {version}_{name}  {applied_at:%Y-%m-%d %H:%M:%S%z}")
    for migration in pending:
        click.echo(f"pending  {migration.path.name}")
    if not applied and not pending:
        click.echo("no migrations")


@db_cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def db_backup(file):
    """Write the whole database to FILE (pg_dump custom format)."""
    try:
        size = backup.backup(_database_url(), file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backup written to {file} ({size:,} bytes)")


@db_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def db_restore(file):
    """Restore FILE (from `db backup`) into the configured database, which must be empty."""
    try:
        backup.restore(_database_url(), file)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {file}; check it with `flask --app apps.api dashboard verify`")


@click.command("seed")
@click.option("--jobs", default=2000, show_default=True, help="Jobs to generate (3-8 steps each).")
@click.option("--customers", default=300, show_default=True, help="Customers to generate.")
@click.option("--seed", "seed_value", default=42, show_default=True, help="Random seed (same seed, same data).")
@with_appcontext
def seed_command(jobs, customers, seed_value):
    """Fill the database with deterministic demo data."""
    if customers < 1 and jobs > 0:
        raise click.BadParameter("jobs need at least one customer", param_hint="--customers")
    seed(_database_url(), jobs=jobs, customers=customers, seed_value=seed_value,
         password=current_app.config["DEMO_PASSWORD"], progress=click.echo)


queries = Queries("dashboard.sql")
dashboard_cli = AppGroup("dashboard", help="Check and repair the dashboard counters.")


def counter_drift(database_url):
    """Return the counters that disagree with a recount of the base tables, as dicts (empty: no drift)."""
    conn = db.connect(database_url, "dashboard-verify")
    try:
        # One snapshot for the recount and the counters, so concurrent writers cannot fake a drift.
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        with conn, conn.cursor() as cur:
            cur.execute(queries.list_counter_drift)
            names = [column.name for column in cur.description or ()]
            return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        conn.close()


def rebuild_counters(database_url):
    """Recount every dashboard counter from the base tables; return how many were wrong."""
    conn = db.connect(database_url, "dashboard-rebuild")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(queries.rebuild_counters)
            return one_row(cur)[0]
    finally:
        conn.close()


def describe(drift):
    """Return one line about a drifted counter."""
    counter = drift["counter"]
    key = {"job_status": drift["status"], "open_due": f"due {drift['day']:%Y-%m-%d}",
           "job_month": f"{drift['day']:%Y-%m}", "step": f"user {drift['user_id']} {drift['status']}"}[counter]
    return f"  {counter:<10} {key:<24} counted {drift['actual']:>10,}  actual {drift['expected']:>10,}"


@dashboard_cli.command("verify")
def verify_command():
    """Recount every dashboard counter from the base tables and report any drift (exit 1 if any)."""
    drift = counter_drift(_database_url())
    if not drift:
        click.echo("dashboard counters: no drift")
        return
    click.echo(f"dashboard counters: {len(drift)} drifted (run `flask --app apps.api dashboard rebuild`)")
    for row in drift:
        click.echo(describe(row))
    raise click.exceptions.Exit(1)


@dashboard_cli.command("rebuild")
def rebuild_command():
    """Recount every dashboard counter from the base tables (writers wait while it runs)."""
    wrong = rebuild_counters(_database_url())
    click.echo(f"dashboard counters rebuilt: {wrong} were wrong" if wrong else
               "dashboard counters rebuilt: all were right")


@click.command("notify-overdue")
@with_appcontext
def notify_overdue_command():
    """Announce the jobs that became overdue (once each), for cron where no scheduler runs."""
    from ..ops import overdue

    url = db.direct_url(current_app.config) if current_app.config["DATABASE_URL"] else _database_url()
    conn = db.connect(url, "notify-overdue", current_app.config, session_timeouts=True)
    try:
        click.echo(f"{overdue.sweep(conn)} notification(s)")
    finally:
        conn.close()


@click.command("retention")
@with_appcontext
def retention_command():
    """Remove rows past their retention limit, export old audit months, create the months ahead (for cron)."""
    from ..ops import retention
    from ..private_files import UnsafeFile

    conn = db.connect(_database_url(), "retention", current_app.config)
    try:
        click.echo(retention.run_pass(conn, retention.RetentionSettings.from_config(current_app.config)))
    except UnsafeFile as exc:  # an archive directory or file this user cannot trust: say so, write nothing
        raise click.ClickException(str(exc)) from None
    finally:
        conn.close()


# Every command, by name, for the app's lazy command group (apps/api/commands.py).
COMMANDS = {"db": db_cli, "seed": seed_command, "dashboard": dashboard_cli, "notify-overdue": notify_overdue_command,
            "retention": retention_command}

"""Command-line tools: `flask --app apps.api db upgrade|status`, `seed`, `notify-overdue`."""
import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import migrate, overdue
from .dashboard_cli import dashboard_cli
from .seed import seed

db_cli = AppGroup("db", help="Apply and list schema migrations.")


def _database_url():
    url = current_app.config["DATABASE_URL"]
    if not url:
        raise click.ClickException(
            "no database: set DATABASE_URL, or start the development server with `make run`")
    return url


@db_cli.command("upgrade")
def db_upgrade():
    """Apply pending migrations in order."""
    try:
        applied = migrate.upgrade(_database_url(), log=click.echo)
    except migrate.MigrationError as exc:
        raise click.ClickException(str(exc))
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


@click.command("notify-overdue")
@with_appcontext
def notify_overdue_command():
    """Announce the jobs that became overdue (once each), for cron where no scheduler runs."""
    import psycopg2

    conn = psycopg2.connect(current_app.config["DIRECT_DATABASE_URL"] or _database_url())
    try:
        click.echo(f"{overdue.sweep(conn)} notification(s)")
    finally:
        conn.close()


def register_commands(app):
    """Attach the CLI commands to `app`."""
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(notify_overdue_command)
    app.cli.add_command(dashboard_cli)

"""`flask --app apps.api dashboard verify|rebuild`: check the dashboard counters against the base tables."""
import click
import psycopg2
import psycopg2.extensions
from flask import current_app
from flask.cli import AppGroup

from .db import Queries

queries = Queries("dashboard.sql")
dashboard_cli = AppGroup("dashboard", help="Check and repair the dashboard counters.")


def counter_drift(database_url):
    """Return the counters that disagree with a recount of the base tables, as dicts (empty: no drift)."""
    conn = psycopg2.connect(database_url)
    try:
        # One snapshot for the recount and the counters, so concurrent writers cannot fake a drift.
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        with conn, conn.cursor() as cur:
            cur.execute(queries.list_counter_drift)
            names = [column.name for column in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        conn.close()


def rebuild_counters(database_url):
    """Recount every dashboard counter from the base tables; return how many were wrong."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(queries.rebuild_counters)
            return cur.fetchone()[0]
    finally:
        conn.close()


def describe(drift):
    """Return one line about a drifted counter."""
    counter = drift["counter"]
    key = {"job_status": drift["status"], "open_due": f"due {drift['day']:%Y-%m-%d}",
           "job_month": f"{drift['day']:%Y-%m}", "step": f"user {drift['user_id']} {drift['status']}"}[counter]
    return f"  {counter:<10} {key:<24} counted {drift['actual']:>10,}  actual {drift['expected']:>10,}"


def _database_url():
    url = current_app.config["DATABASE_URL"]
    if not url:
        raise click.ClickException("no database: set DATABASE_URL, or start the development server with `make run`")
    return url


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

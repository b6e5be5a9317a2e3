"""GET /api/jobs with `Accept: text/csv`: every job the list's filters match, as CSV, streamed.

Manager and up (a viewer or operator gets 403). No paging: page, per_page and cursor are ignored; the rows
come in the list's order. Rows are read through a server-side cursor in batches of EXPORT_BATCH_ROWS and
written out as they come, so the server's memory stays at a batch whatever the number of jobs. Not audited:
no read is (the request log names who exported, when and with which filters).
"""
from collections.abc import Iterator
from typing import Any

from flask import Response
from psycopg2 import sql

from .. import db
from ..db import Queries
from ..web.auth import has_role
from ..web.csv_stream import csv_response
from ..web.errors import ApiError

queries = Queries("jobs.sql")
EXPORT_JOBS = queries.export_jobs.replace("{match_jobs}", queries.match_jobs)
HEADER = ("job_number", "title", "customer", "status", "due_date", "priority", "steps")
EXPORT_BATCH_ROWS = 2000
DESCRIPTION = (
    "With `Accept: text/csv` (manager and up, else 403): every matching job, no paging, in the list's order, "
    "as `attachment; filename=\"jobs.csv\"`: a header row `job_number,title,customer,status,due_date,priority,"
    "steps`, then one row per job; `steps` is \"completed/total\" (completed counts skipped steps too, as "
    "steps_completed does), due_date YYYY-MM-DD or empty. A cell starting with = + - @ (a formula to a "
    "spreadsheet) is written with a leading '. Streamed: the first rows leave before the last are read.")


def _rows(statement: sql.Composed, params: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    for number, title, customer, status, due_date, priority, completed, total in db.stream(
            statement, params, EXPORT_BATCH_ROWS):
        yield (number, title, customer, status, due_date.isoformat() if due_date else None, priority,
               f"{completed}/{total}")


def may_export() -> None:
    """Refuse the export to a caller below manager (403)."""
    if not has_role("manager"):
        raise ApiError(403, "Exporting jobs as CSV needs the manager role or higher.")


def export_jobs(params: dict[str, Any], order: Any) -> Response:
    """Answer every job matching `params` in `order` as a streamed CSV attachment."""
    statement = sql.SQL(EXPORT_JOBS).format(order_by=order.parts(False)["order_by"])
    return csv_response("jobs.csv", HEADER, _rows(statement, params))

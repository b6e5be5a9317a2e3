"""Every failure a client can cause becomes an RFC 9457 problem document."""
import logging

import psycopg2
from flask import current_app, json
from werkzeug.exceptions import HTTPException

from ..db import PoolError, PrimaryUnavailable
from ..domain.errors import ApiError, ValidationError

__all__ = ["ApiError", "ValidationError", "problem", "register_error_handlers"]  # views take their errors from here

log = logging.getLogger(__name__)

PROBLEM_TYPE = "about:blank"
RETRY_AFTER_SECONDS = 1


def problem(status, detail, title=None, errors=None, headers=None):
    """Build a problem+json response."""
    from http import HTTPStatus

    body = {
        "type": PROBLEM_TYPE,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = current_app.response_class(json.dumps(body), status=status,
                                          mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _handle_api_error(exc):
    return problem(exc.status, exc.detail, exc.title, exc.errors, exc.headers)


def _handle_http_exception(exc):
    headers = dict(exc.get_headers()) if exc.code == 405 else {}
    headers.pop("Content-Type", None)
    return problem(exc.code, exc.description, exc.name, headers=headers)


def _handle_pool_error(exc):
    if isinstance(exc, PrimaryUnavailable):  # known down: at once, and without a warning per request
        return _read_only_problem()
    log.warning("database pool unavailable: %s", exc)
    return problem(503, "The database is busy; retry shortly.", "Service Unavailable",
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# Constraint violations a client can cause: (status, what to say).
_CONSTRAINT_ANSWERS = (
    (psycopg2.errors.UniqueViolation, 409, "A record with this value already exists."),
    (psycopg2.errors.RestrictViolation, 409, "The record is still referenced by other records."),
    (psycopg2.errors.ForeignKeyViolation, 422, "A referenced record does not exist."),
    (psycopg2.errors.CheckViolation, 422, "A value is not allowed."),
    (psycopg2.errors.NotNullViolation, 422, "A required value is missing."),
    (psycopg2.DataError, 422, "A value has the wrong form or size."),
)


# The request field a constraint guards. Answers name request fields only, never the schema's own names
# (constraints, columns, tables): a violation of a constraint not listed here names the whole body.
FIELD_OF_CONSTRAINT = {
    "users_username_key": "username", "users_email_key": "email", "customers_email_key": "email",
    "processes_code_key": "code", "machines_name_key": "name", "jobs_job_number_key": "job_number",
    "jobs_customer_id_fkey": "customer_id", "job_steps_process_id_fkey": "process_id",
    "job_steps_assigned_to_fkey": "assigned_to", "job_steps_machine_id_fkey": "machine_id",
    "machines_process_id_fkey": "process_id", "role_process_permissions_process_id_fkey": "process_ids",
}


def _constraint_problem(exc):
    for error_class, status, detail in _CONSTRAINT_ANSWERS:
        if isinstance(exc, error_class):
            diag = getattr(exc, "diag", None)
            constraint = getattr(diag, "constraint_name", None) if diag else None
            log.info("constraint violation answered %d: %s", status, constraint or type(exc).__name__)
            errors = [{"field": FIELD_OF_CONSTRAINT.get(constraint or "", "body"), "message": detail}]
            return problem(status, detail, errors=errors)
    return None


def _read_only_problem():
    return problem(503, "The primary database is down: the service answers reads only; retry shortly.",
                   "Service Unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _handle_database_error(exc):
    answer = _constraint_problem(exc)
    if answer is not None:
        return answer
    if isinstance(exc, psycopg2.errors.ReadOnlySqlTransaction):  # a write that reached a standby
        return _read_only_problem()
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        log.warning("statement timeout: %s", exc)
        return problem(503, "The query took too long and was cancelled; retry shortly.",
                       "Service Unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
        log.warning("database unavailable: %s", exc)
        return problem(503, "The database is unavailable; retry shortly.", "Service Unavailable",
                       headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    return _handle_unexpected(exc)


def _handle_unexpected(exc):
    log.exception("unhandled error")
    detail = repr(exc) if current_app.debug else "An unexpected error occurred."
    return problem(500, detail)


def register_error_handlers(app):
    """Turn every exception into problem+json."""
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(PoolError, _handle_pool_error)
    app.register_error_handler(psycopg2.Error, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)

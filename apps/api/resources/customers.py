"""Customers: search, create, read, update, delete, and the bulk import upsert keyed on email."""
from datetime import datetime

from flask import Blueprint, g
from pydantic import BaseModel, Field

from ..db import Queries, cursor, one_row, read_cursor
from ..domain import audit
from ..web.auth import require_role
from ..web.errors import ValidationError
from ..web.etags import precondition, with_etag
from ..web.idempotency import idempotent
from ..web.listing import SEARCH_RULE, Order, like_pattern, page_of
from ..web.openapi import documented, page_model
from ..web.proxies import client_ip
from ..web.ratelimit import rate_limited
from ..web.rows import merged, one_or_404
from ..web.validation import OMITTED, Body, Email, Name, PageQuery, Text50, Text200, Text10000, accepts

bp = Blueprint("customers", __name__, url_prefix="/api/customers")
queries = Queries("customers.sql")
BY_NAME = Order("name", ["name", "id"], searched_key=True)

EDITABLE = ("name", "email", "phone", "company", "notes")
MAX_IMPORT_ROWS = 10_000


class Customer(BaseModel):
    """A customer as the API answers it."""

    id: int
    name: str
    email: str | None
    phone: str | None
    company: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class CustomerQuery(PageQuery):
    q: Text200 | None = Field(None, description=f"Substring of name, email or phone (any case); {SEARCH_RULE}")


class CustomerBody(Body):
    name: Name
    email: Email | None = None
    phone: Text50 | None = None
    company: Text200 | None = None
    notes: Text10000 | None = None


class CustomerPatch(Body):
    # `name` may be omitted but not null; the others may be set to null to clear them.
    name: Name = OMITTED
    email: Email | None = None
    phone: Text50 | None = None
    company: Text200 | None = None
    notes: Text10000 | None = None


class ImportRow(Body):
    name: Name
    email: Email
    phone: Text50 | None = None
    company: Text200 | None = None
    notes: Text10000 | None = None


class ImportBody(Body):
    customers: list[ImportRow] = Field(min_length=1, max_length=MAX_IMPORT_ROWS)


class ImportResult(BaseModel):
    """What a bulk import did."""

    inserted: int
    updated: int
    unchanged: int


@bp.get("")
@documented(schema=page_model(Customer))
@require_role("viewer")
@rate_limited("customers-list", "RATE_LIMIT_LISTS", by="user")
@accepts(query=CustomerQuery)
def list_customers(query):
    """List customers by name, optionally searching name, email and phone.

    `q` matches a case-insensitive substring of name, email or phone; `%` and `_` in it are literal.
    """
    params = {"pattern": like_pattern(query.q)}
    with read_cursor() as cur:
        return page_of(cur, queries.match_customers, queries.list_customers, params, query, BY_NAME)


@bp.post("")
@documented(schema=Customer, responses={409: "A customer with this email already exists"})
@require_role("manager")
@idempotent
@accepts(body=CustomerBody)
def create_customer(body):
    """Create a customer."""
    with cursor() as cur:
        cur.execute(queries.insert_customer, body.model_dump())
        customer = one_row(cur)
        audit.record_create(cur, "customers", customer["id"], {key: customer[key] for key in EDITABLE})
    return with_etag(customer, 201, {"Location": f"/api/customers/{customer['id']}"})


@bp.get("/<int:customer_id>")
@documented(schema=Customer, etag=True)
@require_role("viewer")
def get_customer(customer_id):
    """Return one customer."""
    with read_cursor() as cur:
        return with_etag(one_or_404(cur, queries.get_customer, {"id": customer_id}, "customer"))


@bp.patch("/<int:customer_id>")
@documented(schema=Customer, responses={409: "A customer with this email already exists"}, etag=True)
@require_role("manager")
@accepts(body=CustomerPatch)
def update_customer(customer_id, body):
    """Change some of a customer's fields.

    Omitted fields keep their value; null clears an optional field (`name` cannot be null).
    A request that changes nothing answers the customer and records nothing.
    """
    changes = body.model_dump(include=body.model_fields_set)
    with cursor() as cur:
        before = one_or_404(cur, queries.lock_customer, {"id": customer_id}, "customer")
        etag = precondition(before)
        changed = audit.changed_fields(before, changes)
        if not changed:
            return before, 200, {"ETag": etag}
        cur.execute(queries.update_customer, dict(merged(before, changes, EDITABLE), id=customer_id))
        customer = cur.fetchone()
        audit.record(cur, "update", "customers", customer_id, changed)
    return with_etag(customer)


@bp.delete("/<int:customer_id>")
@documented(responses={409: "The customer still has jobs"}, etag=True)
@require_role("manager")
def delete_customer(customer_id):
    """Delete a customer that has no jobs."""
    with cursor() as cur:
        precondition(one_or_404(cur, queries.lock_customer, {"id": customer_id}, "customer"))
        deleted = one_or_404(cur, queries.delete_customer, {"id": customer_id}, "customer")
        audit.record_delete(cur, "customers", deleted)
    return "", 204


def _duplicate_emails(rows):
    """Return a validation error per row whose email an earlier row of the payload already has."""
    first_index: dict[str, int] = {}
    errors: list[dict[str, str]] = []
    for index, row in enumerate(rows):
        if row.email in first_index:
            errors.append({"field": f"customers.{index}.email",
                           "message": f"duplicates customers.{first_index[row.email]}.email"})
        else:
            first_index[row.email] = index
    return errors


@bp.post("/import")
@documented(status=200, schema=ImportResult)
@require_role("manager")
@rate_limited("import", "RATE_LIMIT_IMPORT", by="user")
@accepts(body=ImportBody)
def import_customers(body):
    """Upsert up to 10,000 customers keyed on email in one statement; all rows valid or nothing written.

    Every row needs `name` and `email`. Invalid rows are reported by index (`customers.3.email`), and so are
    emails repeated within the payload (compared lower-cased); then nothing is written. A row whose email
    exists updates that customer: `name` is replaced, optional fields that are omitted or null keep their
    stored value. Rows identical to the stored customer are counted as `unchanged` and not rewritten.
    Each inserted or changed customer is audited (`create`/`update` with its changed fields), and the
    import as a whole once more (`import` with the counts), in the same transaction.
    """
    rows = body.customers
    duplicates = _duplicate_emails(rows)
    if duplicates:
        raise ValidationError(duplicates, detail="Some rows repeat an email of an earlier row.")
    columns = {"names": "name", "emails": "email", "phones": "phone", "companies": "company", "notes": "notes"}
    params = {param: [getattr(row, field) for row in rows] for param, field in columns.items()}
    params.update(user_id=g.user_id, ip=client_ip())
    with cursor() as cur:
        cur.execute(queries.lock_imported_customers, params)
        cur.execute(queries.import_customers, params)
        counts = one_row(cur)
        result = {"inserted": counts["inserted"], "updated": counts["updated"],
                  "unchanged": len(rows) - counts["inserted"] - counts["updated"]}
        audit.record(cur, "import", "customers", None, dict(result, rows=len(rows)))
    return result

"""Paginated lists in the contract's shape: keyset cursors, bounded offsets, bounded counts, search terms.

Every list runs through `page_of`. Its `list_sql` holds three placeholders that `Order` fills:
`{cursor_key}` (a select-list item: the row's sort key as JSON), `{after}` (a WHERE predicate: the
rows past the cursor, or TRUE) and `{order_by}`; it ends with `LIMIT %(limit)s OFFSET %(offset)s`.
Its `match_sql` selects the matching rows without order or limit, for the count.
"""
import math
import re
from typing import Any

from flask import after_this_request, current_app, request
from psycopg2 import sql

from ..db import Queries
from . import list_cursor
from .errors import ApiError, ValidationError

# pg_trgm extracts trigrams from runs of word characters: a term without three in a row cannot use
# the trigram indexes, and '%ab%' would read every row (or every index entry) of the table.
_TRIGRAM_RUN = re.compile(r"[^\W_]{3}")
SEARCH_RULE = ("at least three letters or digits in a row: shorter terms cannot use the trigram index "
               "and would read the whole table (422)")

queries = Queries("listing.sql")


# An estimate this many times past LIST_EXACT_COUNT_LIMIT (and at least the floor) is answered without the
# bounded count: the planner's estimates of the list filters are within a few times of the truth.
TRUSTED_ESTIMATE_FACTOR = 10
TRUSTED_ESTIMATE_FLOOR = 10_000


class Order:
    """One supported order of a list: key expressions (SQL over the statement's aliases), the last unique."""

    def __init__(self, name, keys, descending=False, searched_key=False, filter_key=False):
        self.name = name
        self.keys = keys
        self.descending = descending
        # The first key is a searched column (customers by name): matches cluster along the order.
        self.searched_key = searched_key
        # The first key is an equality filter (jobs ?status=): its index holds only the filtered rows.
        self.filter_key = filter_key

    def parts(self, after):
        """Return the `{cursor_key}`, `{after}` and `{order_by}` fragments (after: continue a cursor)."""
        keys = [sql.SQL(key) for key in self.keys]
        direction = sql.SQL(" DESC" if self.descending else "")
        predicate: sql.Composable = sql.SQL("TRUE")
        if after:
            # A row comparison: one btree range over an index on exactly these keys, in either direction.
            predicate = sql.SQL("({keys}) {op} ({values})").format(
                keys=sql.SQL(", ").join(keys), op=sql.SQL("<" if self.descending else ">"),
                values=sql.SQL(", ").join(sql.Placeholder(f"after_{i}") for i in range(len(keys))))
        return {
            "cursor_key": sql.SQL("json_build_array({}) AS cursor_key").format(sql.SQL(", ").join(keys)),
            "after": predicate,
            "order_by": sql.SQL(", ").join(key + direction for key in keys),
        }


def like_pattern(text):
    """Return an ILIKE pattern matching `text` anywhere, its %, _ and \\ taken literally (None for no text).

    A term the trigram indexes cannot serve is a 422 (SEARCH_RULE), never a scan of the table.
    """
    if not text:
        return None
    if not _TRIGRAM_RUN.search(text):
        raise ValidationError([{"field": "q", "message": f"needs {SEARCH_RULE}"}],
                              detail="The search term is too short to search by index.")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _wants_exact_count():
    """Tell whether the request says `Prefer: count=exact` (PostgREST's convention)."""
    preferences = ",".join(request.headers.getlist("Prefer"))
    wanted = any(item.strip().replace(" ", "") == "count=exact" for item in preferences.split(","))
    if wanted:
        @after_this_request
        def applied(response):
            response.headers["Preference-Applied"] = "count=exact"
            return response
    return wanted


def _count(cur, match_sql, params, exact, order=None):
    """Return (total, is_estimate): exact up to LIST_EXACT_COUNT_LIMIT rows, past it the planner's estimate.

    A search (`q`) whose estimate is far past the limit (TRUSTED_ESTIMATE_FACTOR) is answered at once.

    A search within a filter (`order.filter_key`, ?status=&q=) is counted along the page's own index, so
    it reads at most the rows of that filter; left to itself the planner walked every open job instead.
    """
    plain = sql.SQL(match_sql)
    match: sql.Composable = plain
    if exact:  # bounded by the connection's statement timeout (a 503 past it)
        cur.execute(sql.SQL("SELECT count(*) AS total FROM ({}) m").format(match), params)
        return cur.fetchone()["total"], False
    limit = current_app.config["LIST_EXACT_COUNT_LIMIT"]
    estimate = None
    if params.get("pattern") is not None:
        # A search far past the limit by the planner's count: counting limit + 1 matches first would only
        # confirm it, at the price of a walk past every row that does not match (q=wrap: 15,000 rows for
        # 1,001 matches). Other filters count their limit + 1 rows along an index: no estimate first.
        estimate = _estimate(cur, plain, params)
        if estimate >= max(TRUSTED_ESTIMATE_FACTOR * (limit + 1), TRUSTED_ESTIMATE_FLOOR):
            return estimate, True
    along = order is not None and order.filter_key and params.get("pattern") is not None
    if along:
        match = sql.SQL("{} ORDER BY {}").format(match, order.parts(False)["order_by"])
        cur.execute(queries.sort_off)  # the order comes from the filter's index, not a sort
    try:
        cur.execute(sql.SQL("SELECT count(*) AS total FROM ({} LIMIT %(count_limit)s) m").format(match),
                    dict(params, count_limit=limit + 1))
        counted = cur.fetchone()["total"]
    finally:
        if along:
            cur.execute(queries.sort_on)
    if counted <= limit:
        return counted, False
    if estimate is None:
        estimate = _estimate(cur, plain, params)
    return max(estimate, counted), True


def _estimate(cur: Any, match: Any, params: dict[str, Any]) -> int:
    """Return the planner's estimate of the rows of `match`."""
    cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + match, params)
    return int(cur.fetchone()["QUERY PLAN"][0]["Plan"]["Plan Rows"])


def _start(query, order):
    """Return (page, offset, cursor key or None) of the page asked for by `cursor` or `page`."""
    if query.cursor:
        page, key = list_cursor.read(query.cursor, f"{request.path} {order.name}", len(order.keys))
        return page, 0, key
    offset = (query.page - 1) * query.per_page
    limit = current_app.config["LIST_MAX_OFFSET"]
    if offset > limit:
        raise ApiError(400, f"page {query.page} starts past row {limit:,}: an offset that deep reads every "
                            "row before it. Follow pagination.next_cursor (?cursor=) instead.")
    return query.page, offset, None


def _fetch(cur, statement, params, by_bitmap):
    """Run `statement` and return its rows; `by_bitmap` reads the matches through bitmap scans and sorts them."""
    if not by_bitmap:
        cur.execute(statement, params)
        return cur.fetchall()
    # A search of few matches: walking the order's index and filtering could read most of the table when
    # the matches sit far along it ('Oak ...' customers by name); the trigram bitmap reads only the matches.
    # No `finally`: after a failed statement (a statement timeout) the transaction is aborted, a SET would raise
    # InFailedSqlTransaction over the real error, and the rollback restores the setting anyway.
    cur.execute(queries.index_scans_off)
    cur.execute(statement, params)
    rows = cur.fetchall()
    cur.execute(queries.index_scans_on)
    return rows


def page_of(cur, match_sql, list_sql, params, query, order):
    """Run one page of `list_sql` in `order` and a bounded count of `match_sql`; return {"items", "pagination"}.

    `query` is a PageQuery: `cursor` (a next_cursor of the same list and order) or `page`, and `per_page`.
    A search (params["pattern"], from like_pattern) in an order whose first key is the searched column is
    counted first: with at most LIST_SEARCH_SORT_LIMIT matches they are read by their trigram index and
    sorted, since walking the order's index would first pass every row before the cluster of matches.
    """
    page, offset, after = _start(query, order)
    exact = _wants_exact_count()
    counted = None
    if order.searched_key and params.get("pattern") is not None:
        counted = _count(cur, match_sql, params, exact)
    by_bitmap = counted is not None and counted[0] <= current_app.config["LIST_SEARCH_SORT_LIMIT"]
    values = {f"after_{i}": value for i, value in enumerate(after or ())}
    # A list statement may read its match statement as a subquery: {match} (composed, never spliced as text).
    items = _fetch(cur, sql.SQL(list_sql).format(match=sql.SQL(match_sql), **order.parts(after is not None)),
                   dict(params, **values, limit=query.per_page + 1, offset=offset), by_bitmap)
    has_next = len(items) > query.per_page
    items = items[:query.per_page]
    keys = [item.pop("cursor_key") for item in items]
    if counted is not None:
        total, estimated = counted
    elif after is None and not has_next and (items or offset == 0):
        total, estimated = offset + len(items), False  # the last page by offset: the count is known
    else:
        total, estimated = _count(cur, match_sql, params, exact, order)
    pages = math.ceil(total / query.per_page) if total else 0
    next_cursor = None
    if has_next:
        next_cursor = list_cursor.make(page + 1, keys[-1], f"{request.path} {order.name}")
    return {
        "items": items,
        "pagination": {
            "page": page, "per_page": query.per_page, "total": total, "pages": pages,
            "has_next": has_next, "has_prev": page > 1, "next_cursor": next_cursor,
            "total_is_estimate": estimated,
        },
    }

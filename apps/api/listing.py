"""Paginated lists in the contract's shape, and the search pattern lists share."""
import math


def like_pattern(text):
    """Return an ILIKE pattern matching `text` anywhere, its %, _ and \\ taken literally (None for no text)."""
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_of(cur, count_sql, list_sql, params, query):
    """Run `count_sql` and one page of `list_sql`; return {"items", "pagination"}.

    `list_sql` must end with `LIMIT %(limit)s OFFSET %(offset)s`; `query` is a PageQuery.
    """
    cur.execute(count_sql, params)
    total = cur.fetchone()["total"]
    offset = (query.page - 1) * query.per_page
    items = []
    if offset < total:
        cur.execute(list_sql, dict(params, limit=query.per_page, offset=offset))
        items = cur.fetchall()
    pages = math.ceil(total / query.per_page) if total else 0
    return {
        "items": items,
        "pagination": {
            "page": query.page, "per_page": query.per_page, "total": total, "pages": pages,
            "has_next": query.page < pages, "has_prev": query.page > 1,
        },
    }

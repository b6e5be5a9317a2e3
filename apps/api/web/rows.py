"""What the resource blueprints do alike with rows: fetch one or answer 404, turn a PATCH into a full write."""
from .errors import ApiError


def one_or_404(cur, statement, params, noun):
    """Run `statement` and return its row; answer 404 "No `noun` has this id." when there is none."""
    cur.execute(statement, params)
    row = cur.fetchone()
    if row is None:
        raise ApiError(404, f"No {noun} has this id.")
    return row


def merged(before, changes, fields):
    """Return `fields` of the locked row `before` with the PATCH's `changes` over them.

    The one way a PATCH becomes SQL: the update statement writes every editable field, and omitted
    fields keep their value because they are written back as read under the row lock.
    """
    return {name: changes[name] if name in changes else before[name] for name in fields}

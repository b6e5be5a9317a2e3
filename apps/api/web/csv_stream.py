"""CSV answers streamed row by row: a header, then each row as it comes, cells safe to open in a spreadsheet."""
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response, request, stream_with_context

MEDIA_TYPE = "text/csv"
# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): it starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv() -> bool:
    """Tell whether the request's Accept prefers CSV to JSON (`*/*` and no Accept mean JSON)."""
    best = request.accept_mimetypes.best_match(["application/json", MEDIA_TYPE])
    return best == MEDIA_TYPE and request.accept_mimetypes[MEDIA_TYPE] > request.accept_mimetypes["application/json"]


def safe_cell(value: Any) -> Any:
    """Return `value` for a CSV cell: text that a spreadsheet would read as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def _lines(header: Sequence[str], rows: Iterable[Sequence[Any]], rows_per_chunk: int) -> Iterator[str]:
    """Yield the CSV text in chunks of `rows_per_chunk` rows (RFC 4180: CRLF line ends, quoted as needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(value) for value in row])
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
                 rows_per_chunk: int = 500) -> Response:
    """Return a streamed CSV attachment of `header` and `rows` (an iterator read while the answer is sent)."""
    response = Response(stream_with_context(_lines(header, rows, rows_per_chunk)),
                        mimetype=MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    response.headers["Content-Type"] = f"{MEDIA_TYPE}; charset=utf-8"
    return response

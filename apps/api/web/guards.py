"""Cheap guards around every request: small bodies for routes without a token, private authenticated answers."""
import io

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

# What an authenticated answer may do in caches on the way: nothing kept (or, where an ETag lets the client
# revalidate, kept by the client only and checked every time), and never sniffed into another type.
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
REVALIDATED = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def init_app(app):
    """Bound every body (chunked ones too; a few KiB without a token) and mark authenticated answers private."""
    limit = app.config["PUBLIC_MAX_CONTENT_LENGTH"]
    general = app.config["MAX_CONTENT_LENGTH"]
    views = app.view_functions

    @app.before_request
    def bound_body():
        # Anyone may call the routes without a token (login above all): a few KiB is plenty, and is all they
        # may make us read. Every other route reads at most MAX_CONTENT_LENGTH.
        view = views.get(request.endpoint)
        public = view is not None and not hasattr(view, "required_role")
        if public:
            request.max_content_length = limit
        bound = limit if public else general
        if (request.content_length or 0) > bound:
            raise RequestEntityTooLarge(f"A body for this route may be at most {bound} bytes.")
        if (request.content_length is None and request.environ.get("wsgi.input_terminated")
                and "chunked" in request.headers.get("Transfer-Encoding", "").lower()):
            _read_chunked(bound)

    @app.after_request
    def mark_private(response):
        headers = response.headers
        if "HTTP_AUTHORIZATION" not in request.environ:
            headers.update(NOSNIFF)
        elif "Cache-Control" in headers:  # the route said already (tokens: no-store; cached answers)
            headers.update(NOSNIFF)
        else:
            headers.update(REVALIDATED if "ETag" in headers else PRIVATE)
        return response


def _read_chunked(bound: int) -> None:
    """Read a body of undeclared length (chunked) up to `bound` bytes, or refuse it: 413, as a declared one.

    werkzeug stops a chunked body silently at the limit (the JSON then looks malformed: a 400). Read here,
    the body is kept and declared, so everything after reads exactly what was sent.
    """
    environ = request.environ
    if "stream" in request.__dict__ or "_cached_data" in request.__dict__:
        return  # already read by someone: werkzeug's own bound applied
    source, parts, size = environ["wsgi.input"], [], 0
    while size <= bound:
        part = source.read(min(65536, bound + 1 - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    if size > bound:
        raise RequestEntityTooLarge(f"A body for this route may be at most {bound} bytes.")
    environ["wsgi.input"] = io.BytesIO(b"".join(parts))
    environ["CONTENT_LENGTH"] = str(size)

"""Cheap guards around every request: small bodies for routes without a token, private authenticated answers."""
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

# What an authenticated answer may do in caches on the way: nothing kept (or, where an ETag lets the client
# revalidate, kept by the client only and checked every time), and never sniffed into another type.
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
REVALIDATED = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def init_app(app):
    """Bound the bodies of `app`'s routes that need no token, and mark its authenticated answers private."""
    limit = app.config["PUBLIC_MAX_CONTENT_LENGTH"]
    views = app.view_functions

    @app.before_request
    def bound_public_body():
        # Anyone may call these (login above all): a few KiB is plenty, and is all they may make us read.
        view = views.get(request.endpoint)
        if view is None or hasattr(view, "required_role"):
            return
        request.max_content_length = limit  # also bounds a chunked body while it is read
        if (request.content_length or 0) > limit:
            raise RequestEntityTooLarge(f"A body for this route may be at most {limit} bytes.")

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

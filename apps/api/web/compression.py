"""Gzip for large JSON answers when the client accepts it."""
import gzip

from .etags import gzip_etag

MIN_SIZE = 1024
COMPRESSIBLE = ("application/json", "application/problem+json", "text/plain")


def _accepts_gzip(request):
    return any(part.split(";")[0].strip() == "gzip"
               for part in request.headers.get("Accept-Encoding", "").split(","))


def init_app(app):
    """Compress answers of `app` over MIN_SIZE bytes with gzip when asked to."""
    from flask import request

    @app.after_request
    def compress(response):
        length = response.content_length  # known for every non-streamed answer
        if length is not None and length < MIN_SIZE:
            return response  # never compressed whatever Accept-Encoding says, so no Vary either
        if (response.direct_passthrough or response.status_code < 200 or response.status_code in (204, 304)
                or "Content-Encoding" in response.headers or response.mimetype not in COMPRESSIBLE):
            return response
        response.vary.add("Accept-Encoding")
        if not _accepts_gzip(request):
            return response
        body = response.get_data()
        if len(body) < MIN_SIZE:
            return response
        response.set_data(gzip.compress(body, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
        etag = response.headers.get("ETag")
        if etag:
            # Other bytes, another representation: its own strong tag, which If-Match still takes.
            response.headers["ETag"] = gzip_etag(etag)
        return response

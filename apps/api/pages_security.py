"""The headers every shop-floor page and its static files carry: a strict CSP, no framing, no sniffing."""

# Everything comes from this origin; no inline script or style (no 'unsafe-inline' anywhere), no plugins,
# no <base> games, forms post only here, and no other site may frame the page (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_page_headers(response):
    """Set the page headers on `response`; the HTML shell is never stored (back after logout shows no data)."""
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response

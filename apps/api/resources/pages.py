"""The shop-floor web page at `/`: one HTML shell and its static ES modules, CSS and icon, under strict headers.

The page is a client of the JSON API on the same origin; it holds no server state of its own. Its routes
(dashboard, my queue, a job, a machine's queue) live in the URL's fragment, so `/` is the only HTML path.
"""
from pathlib import Path

from flask import Blueprint, render_template

from ..domain.statuses import page_rules

PACKAGE = Path(__file__).resolve().parent.parent
# Everything from this origin; no inline script or style (no 'unsafe-inline' anywhere), no plugins, no <base>
# games, forms post only here, and no other site may frame the page (clickjacking).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}

# The blueprint owns /static (the app itself has no static folder), so its files get the page headers too.
bp = Blueprint("pages", __name__, static_folder=str(PACKAGE / "static"), static_url_path="/static",
               template_folder=str(PACKAGE / "templates"))


@bp.after_request
def add_page_headers(response):
    """Set the page headers; the HTML shell is never stored (back after logout shows no data)."""
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/")
def get_index() -> str:
    """Serve the page's HTML shell (the login form and every view are drawn by static/app.js)."""
    return render_template("index.html", rules=page_rules())


# The floor devices' shells, each opened once as `/board#device=<token>` or `/tablet#device=<token>`: the token
# is in the fragment, which the browser never sends (no server or proxy log holds it); the page keeps it and
# takes it out of the address bar. Like `/`, they hold no data and are public.
@bp.get("/board")
def get_board_page():
    """Serve the wall board's shell (static/board.js draws it with a board's device token)."""
    return render_template("board.html")


@bp.get("/tablet")
def get_tablet_page():
    """Serve the shared tablet's shell (static/tablet.js draws it with a tablet's device token)."""
    return render_template("tablet.html", rules=page_rules())  # the tablet works steps by the same rules

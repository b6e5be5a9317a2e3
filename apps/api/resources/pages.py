"""The shop-floor web page at `/`: one HTML shell and its static ES modules, CSS and icons.

The page is a client of the JSON API on the same origin; it holds no server state of its own. Its routes
(dashboard, my queue, a job, a machine's queue) live in the URL's fragment, so `/` is the only HTML path.
"""
from pathlib import Path

from flask import Blueprint, render_template

from ..pages_security import add_page_headers

PACKAGE = Path(__file__).resolve().parent.parent
# The blueprint owns /static (the app itself has no static folder) so its files get the page headers too.
bp = Blueprint("pages", __name__, static_folder=str(PACKAGE / "static"), static_url_path="/static",
               template_folder=str(PACKAGE / "templates"))
bp.after_request(add_page_headers)


@bp.get("/")
def get_index():
    """Serve the page's HTML shell (login form, dashboard, queue and job views are drawn by app.js)."""
    return render_template("index.html")

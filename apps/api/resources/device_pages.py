"""The floor devices' pages: the wall board at /board and a machine's shared tablet at /tablet.

Each is opened once as `/board#device=<token>` or `/tablet#device=<token>`: the token is in the fragment, which
the browser never sends (so it is in no server's or proxy's log); the page keeps it and takes it out of the
address bar. The shells hold no data and are public, under the main page's headers.
"""
from flask import Blueprint, render_template

from .pages import PAGE_HEADERS

bp = Blueprint("device_pages", __name__)


@bp.after_request
def add_page_headers(response):
    """Set the main page's strict headers; the shells are never stored."""
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/board")
def get_board_page():
    """Serve the wall board's shell (static/board.js draws it with a board's device token)."""
    return render_template("board.html")


@bp.get("/tablet")
def get_tablet_page():
    """Serve the shared tablet's shell (static/tablet.js draws it with a tablet's device token)."""
    return render_template("tablet.html")

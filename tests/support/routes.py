"""Every route of the app's URL map, and the ones the contract leaves without a bearer token."""
from apps.api import create_app
from tests.support.apps import NO_DATABASE, app_config

# The contract's public four: every other path under /api needs a token.
PUBLIC = {("POST", "/api/auth/login"), ("GET", "/api/health"), ("GET", "/api/health/ready"),
          ("GET", "/api/openapi.json")}
# The floor devices' routes: a board's or a tablet's device token, never a user's (web/devices.py).
DEVICE = {("GET", "/api/board"), ("GET", "/api/tablet"), ("POST", "/api/auth/pin")}
# Outside /api, and how each is protected instead.
OUTSIDE_API = {
    "/metrics": "its own bearer token, or loopback when METRICS_TOKEN is unset (tests/ops/test_operations.py)",
    "/": "the web page's HTML shell: public, holds no data (tests/functional/test_pages_browser.py)",
    "/static/<path:filename>": "the web page's scripts, styles and icons: public, hold no data",
    "/board": "the wall board's HTML shell: public, holds no data (its device token stays in the fragment)",
    "/tablet": "the shared tablet's HTML shell: public, holds no data (its device token stays in the fragment)",
}


def url_map_routes():
    """Return (method, rule, view function) for every route of the app's URL map, sorted by rule."""
    app = create_app(app_config(NO_DATABASE))
    return [(method, rule.rule, app.view_functions[rule.endpoint])
            for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]

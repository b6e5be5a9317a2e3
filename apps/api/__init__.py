"""The print and sign shop production-tracking API."""
from flask import Flask
from flask.sessions import SessionInterface

from .config import Config, environment


class NoCookieSession(SessionInterface):
    """Give every request Flask's null session: the API authenticates by bearer token, never by cookie."""

    def open_session(self, app, request):
        return None  # Flask then uses make_null_session(): an empty session that is never saved

    def save_session(self, app, session, response):
        return None


def create_app(test_config=None):
    """Build the application: config, database, cache, auth, blueprints, error handlers."""
    config = Config.from_env(environment())  # .env.dev under the environment in development, os.environ untouched
    config = config.with_overrides(test_config or {})  # an unknown (misspelled) setting is a ConfigError
    if not config.JWT_SECRET_KEY and not config.is_production:
        from .dev_secret import dev_secret
        config.JWT_SECRET_KEY = dev_secret(config.DATA_DIR)
    config.validate()

    from . import cache, db
    from .commands import LazyCommands
    from .config import parse_allowed
    from .ops import heartbeat, overdue
    from .resources import register_blueprints
    from .trust import trusted_hosts
    from .web import auth, compression, errors, guards, request_log, request_metrics
    from .web import context as request_context
    from .web.hosts import HostCheckedRequest
    from .web.jsonio import IsoJSONProvider
    from .web.proxies import ForwardedFrom

    # No app-wide static folder: the pages blueprint serves apps/api/static under the pages' own headers.
    app = Flask(__name__, static_folder=None)
    app.json = IsoJSONProvider(app)
    app.request_class = HostCheckedRequest
    app.cli = LazyCommands(app.name)
    app.config.from_mapping(config.as_flask_config())
    app.config["SECRET_KEY"] = config.JWT_SECRET_KEY
    # Flask's own check: any other Host header is a 400 (problem+json, web/errors.py) on every path, before
    # routing, so no redirect or absolute URL ever names it (DNS rebinding, reflected redirects).
    app.config["TRUSTED_HOSTS"] = trusted_hosts(config.TRUSTED_HOSTS, config.BIND, config.is_production)
    # Bearer tokens only: no cookie session, so no signed-cookie serializer built on every request.
    app.session_interface = NoCookieSession()
    if config.FORWARDED_ALLOW_IPS:
        # Behind proxies: the client address and scheme come from X-Forwarded-* sent by these peers only.
        app.wsgi_app = ForwardedFrom(  # type: ignore[method-assign]  # Flask's way to add a WSGI middleware
            app.wsgi_app, parse_allowed(config.FORWARDED_ALLOW_IPS))
    request_context.init_app(app)
    db.init_app(app)
    cache.init_app(app)
    heartbeat.init_app(app)
    overdue.init_app(app)
    auth.init_app(app)
    errors.register_error_handlers(app)
    compression.init_app(app)
    request_metrics.init_app(app)
    request_log.init_app(app)
    register_blueprints(app)
    guards.init_app(app)
    return app


def open_resources(app):
    """Open `app`'s pool, start its cache, heartbeat and overdue scheduler in this process (post_worker_init)."""
    from . import cache, db
    from .ops import heartbeat, overdue

    database = db.database(app)
    database.pool()
    database.replicas()
    cache.get_cache(app)
    heartbeat.start(app)
    overdue.start(app)


def close_resources(app):
    """Stop `app`'s scheduler, heartbeat and cache and close its pool in this process (worker_exit, tests)."""
    from . import cache, db
    from .ops import heartbeat, overdue

    overdue.stop(app)
    heartbeat.stop(app)
    cache.close(app)
    db.close(app)

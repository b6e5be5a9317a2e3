"""The print and sign shop production-tracking API."""
import os

from flask import Flask

from .config import PROJECT_ROOT, Config, load_env_file


def create_app(test_config=None):
    """Build the application: config, database, cache, auth, blueprints, error handlers."""
    if os.environ.get("APP_ENV", "development") == "development":
        load_env_file(PROJECT_ROOT / ".env.dev")
    config = Config.from_env()
    for name, value in (test_config or {}).items():
        setattr(config, name, value)
    if not config.JWT_SECRET_KEY and not config.is_production:
        from .dev_secret import dev_secret
        config.JWT_SECRET_KEY = dev_secret(config.DATA_DIR)
    config.validate()

    from .web import auth, compression, errors
    from . import cache, db
    from .ops import heartbeat, logs, metrics, overdue
    from .commands import LazyCommands
    from .config import parse_allowed
    from .web.proxies import ForwardedFrom
    from .web.jsonio import IsoJSONProvider
    from .resources import register_blueprints

    app = Flask(__name__)
    app.json = IsoJSONProvider(app)
    app.cli = LazyCommands(app.name)
    app.config.from_mapping(config.as_flask_config())
    app.config["SECRET_KEY"] = config.JWT_SECRET_KEY
    if config.FORWARDED_ALLOW_IPS:
        # Behind proxies: the client address and scheme come from X-Forwarded-* sent by these peers only.
        app.wsgi_app = ForwardedFrom(app.wsgi_app, parse_allowed(config.FORWARDED_ALLOW_IPS))
    db.init_app(app)
    cache.init_app(app)
    heartbeat.init_app(app)
    overdue.init_app(app)
    auth.init_app(app)
    errors.register_error_handlers(app)
    compression.init_app(app)
    metrics.init_app(app)
    logs.init_app(app)
    register_blueprints(app)
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

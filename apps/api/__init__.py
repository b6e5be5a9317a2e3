"""The print and sign shop production-tracking API."""
import os

from flask import Flask

from .config import PROJECT_ROOT, Config, load_env_file


def create_app(test_config=None):
    """Build the application: config, database, auth, blueprints, error handlers."""
    if os.environ.get("APP_ENV", "development") == "development":
        load_env_file(PROJECT_ROOT / ".env.dev")
    config = Config.from_env()
    for name, value in (test_config or {}).items():
        setattr(config, name, value)
    if not config.DATABASE_URL and not config.is_production:
        from .embedded_pg import running_dev_url
        config.DATABASE_URL = running_dev_url(config.DATA_DIR) or ""
    if not config.JWT_SECRET_KEY and not config.is_production:
        from .dev_secret import dev_secret
        config.JWT_SECRET_KEY = dev_secret(config.DATA_DIR)
    config.validate()

    from . import auth, cli, compression, errors, logs, metrics
    from .proxies import ForwardedFrom, parse_allowed
    from .jsonio import IsoJSONProvider
    from .resources import register_blueprints

    app = Flask(__name__)
    app.json = IsoJSONProvider(app)
    app.config.from_mapping(config.as_flask_config())
    app.config["SECRET_KEY"] = config.JWT_SECRET_KEY
    if config.FORWARDED_ALLOW_IPS:
        # Behind proxies: the client address and scheme come from X-Forwarded-* sent by these peers only.
        app.wsgi_app = ForwardedFrom(app.wsgi_app, parse_allowed(config.FORWARDED_ALLOW_IPS))
    auth.init_app(app)
    errors.register_error_handlers(app)
    compression.init_app(app)
    metrics.init_app(app)
    logs.init_app(app)
    register_blueprints(app)
    cli.register_commands(app)
    return app

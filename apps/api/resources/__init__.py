"""One blueprint per resource, all under /api."""


def register_blueprints(app):
    """Attach every resource blueprint to `app`."""
    from . import health

    app.register_blueprint(health.bp)

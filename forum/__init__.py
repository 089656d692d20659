"""The forum application: create_app() builds and wires it."""
import os

import click
from flask import Flask

from config import ProductionConfig, config_for


def create_app(test_config=None):
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    env = os.environ.get("FORUM_ENV", "development")
    config = config_for(env)
    if config is ProductionConfig:
        ProductionConfig.check()
    app.config.from_object(config)
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    # Flask gives its logger ("forum") a handler but no level, so INFO from forum.* was dropped.
    app.logger.setLevel(app.config["LOG_LEVEL"])

    from .extensions import csrf, db, limiter, login_manager

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A file on this machine: no server connection can go stale, so no ping before each use.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "pool_pre_ping": False}
    db.init_app(app)
    if app.testing or click.get_current_context(silent=True) is not None:
        # `flask db ...` runs inside a click command; web workers never migrate, and
        # Flask-Migrate brings Alembic, Mako and Pygments: about 10 MB in every worker.
        from flask_migrate import Migrate

        Migrate(app, db, directory=os.path.join(app.root_path, "..", "migrations"),
                render_as_batch=True)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    from .cookies import SessionInterface, csrf_token

    app.session_interface = SessionInterface()
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})  # over Flask-WTF's, for pages
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    limiter.init_app(app)

    from . import markup, mentions, models  # noqa: F401  (models registers the tables)
    from .ratelimits import refund_refused

    app.after_request(refund_refused)  # a refused write gives its allowance back
    markup.set_member_lookup(mentions.member_usernames)  # @names link to members only

    from .db import configure_postgresql, configure_sqlite

    with app.app_context():
        configure_sqlite(db.engine)
        configure_postgresql(db.engine, app.config["DATABASE_PLAN_CACHE_MODE"])

    from . import auth_loader, web

    auth_loader.init_app(app, login_manager)
    web.init_app(app)

    from .views import register_blueprints

    register_blueprints(app)

    from .cli import register_cli

    register_cli(app)
    return app

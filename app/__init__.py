"""The application factory."""
from __future__ import annotations

from importlib import import_module

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import BytecodeCache, ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from app.api.problems import is_api_request, problem, problem_for
from app.extensions import csrf, db, limiter, login_manager, mail, migrate
from app.locking import QueuedWriters, reset_write_intent, set_write_intent
from app.operations import init_app as init_operations
from app.operations.checks import check_command
from app.operations.request_logs import LoggingFlask
from config import DEV_SECRET_KEY, config_for_environment


class _ProcessBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app this process builds (the test suite builds many)."""

    def __init__(self):
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self._store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE_CACHE = _ProcessBytecodeCache()


def create_app(config_class=None) -> Flask:
    """Build the app: settings, extensions, blueprints, commands and error pages."""
    config_class = config_class or config_for_environment()
    app = LoggingFlask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    if app.config["ENV_NAME"] == "production" and app.config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError("Refusing to start in production with the development SECRET_KEY: set SECRET_KEY to a "
                           "long random value (README, Running it in production; flask check lists the rest).")
    # First: logging, and the request id and timing every later step of a request may need.
    init_operations(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_engine_options(app)
    # The demo clock exists only in development: anywhere else utcnow() never reads its file.
    from app import clock

    clock.use_demo_clock(
        (app.config.get("DEMO_CLOCK_FILE") or f"{app.instance_path}/demo_clock.json")
        if app.config["ENV_NAME"] == "development" else None
    )

    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("app"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.bytecode_cache = _BYTECODE_CACHE
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)

    if app.config.get("TRUSTED_PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The same proxies are trusted for the scheme, so behind TLS at nginx or a load balancer the
        # request is https: Flask-WTF's referrer check on HTTPS and any _external URL see it.
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see this page."
    login_manager.login_message_category = "info"

    from app import demo, inputs, jobs, locking, models, security, templating  # noqa: F401  (the whole schema; SQLite hooks)

    inputs.init_app(app)  # before the blueprints: their <int:...> routes use its converter
    security.init_app(app)
    templating.init_app(app)
    demo.init_app(app)
    jobs.init_app(app)
    app.cli.add_command(check_command)
    _register_blueprints(app)
    # Here, not at the top: the metrics read the bookings and jobs the blueprints brought in.
    from app.operations import metrics

    metrics.init_app(app)
    _register_error_pages(app)
    _register_write_intent(app)
    return app


def _sqlite_engine_options(app: Flask) -> None:
    """Let SQLite wait for a writer instead of failing at once (pragmas: app.locking)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("timeout", 30)
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("factory", QueuedWriters)
    options["connect_args"] = connect_args
    if uri in ("sqlite://", "sqlite:///:memory:"):
        from sqlalchemy.pool import StaticPool

        options.setdefault("poolclass", StaticPool)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


# Each domain's blueprint, its URL prefix, and the modules that attach views, jobs, demo steps
# (and evaluation's certificate gate) to it. They are imported here rather than by their packages, so that one domain's models can be
# imported by another's without pulling in views (the domains' models refer to each other). The
# order is the order of the demo data: people, programme, bookings, registers, evaluation, reports,
# then privacy, which reads and erases across all of them.
BLUEPRINTS = {
    "main": (None, ("views",)),
    "accounts": (None, ("views", "admin_views")),
    "admin": ("/admin", ("views",)),
    "courses": (None, ("views", "admin_views", "recommendation_views", "interest_views", "trainer_views", "demo")),
    "bookings": (None, ("views", "offer_views", "staff_views", "workshop_views", "jobs", "demo")),
    "attendance": (None, ("register_views", "check_in_views", "material_views", "training_views", "charge_views", "suspension_views",
                          "completion_import_views", "single_agency_views", "jobs", "demo")),
    "evaluation": (None, ("views", "trainer_views", "jobs", "demo", "certificate_gate")),
    "reports": (None, ("views", "agency_views", "proposal_views", "jobs", "demo")),
    "privacy": (None, ("views", "access_log_views", "jobs")),
    # Outside the chain (like operations): the JSON API for agencies' systems and its token pages.
    "api": (None, ("views", "write_views", "token_views", "demo")),
}


def _register_blueprints(app: Flask) -> None:
    for package, (prefix, modules) in BLUEPRINTS.items():
        for module in modules:
            import_module(f"app.{package}.{module}")
        app.register_blueprint(import_module(f"app.{package}").bp, url_prefix=prefix)


# The error (a status or an exception), the page shown and the status it is shown with.
_ERROR_PAGES = (
    (400, "errors/400.html", 400),
    (CSRFError, "errors/csrf.html", 400),
    (403, "errors/403.html", 403),
    (404, "errors/404.html", 404),
    (405, "errors/404.html", 405),
    (429, "errors/429.html", 429),
)


def _error_page(template: str, code: int):
    def show(error):
        if is_api_request():
            return problem_for(error)
        return render_template(template), code

    return show


def _register_error_pages(app: Flask) -> None:
    for error, template, code in _ERROR_PAGES:
        app.register_error_handler(error, _error_page(template, code))

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        if is_api_request():
            return problem_for(error)
        return render_template("errors/500.html"), 500

    @app.errorhandler(HTTPException)
    def other_status(error):
        # Statuses without a page of their own (401, 406, 412...): problem details for the API.
        return problem_for(error) if is_api_request() else error

    @app.errorhandler(OperationalError)
    def database_unavailable(_e):
        # The database went away (a restart, a failover): say so, and let the person try again.
        # The page is drawn without the database: as signed out, since loading the person needs it.
        try:
            db.session.rollback()
        except Exception:
            db.session.invalidate()
        g._login_user = login_manager.anonymous_user()
        if is_api_request():
            return problem(503, headers={"Retry-After": "30"})
        return render_template("errors/503.html"), 503, {"Retry-After": "30"}


def _register_write_intent(app: Flask) -> None:
    """Requests that may change data take SQLite's write lock up front (see app.locking)."""

    @app.before_request
    def _declare():
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        writes = request.method not in ("GET", "HEAD", "OPTIONS") and not getattr(view, "reads_first", False)
        g.write_intent_token = set_write_intent(writes)

    @app.teardown_request
    def _clear(_exc):
        token = g.pop("write_intent_token", None)
        if token is not None:
            reset_write_intent(token)

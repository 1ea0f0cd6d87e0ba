"""Running the service: health checks, request ids and structured logs, metrics (metrics.py) and
the checks a production makes before it serves anyone (checks.py).

Outside the domain chain: it reads no domain's data, only the job runner's leases and the
database's migration revision, and every domain's requests pass through it.
"""
from flask import Blueprint, Flask

bp = Blueprint("operations", __name__)

from app.operations import health, logs, request_ids, request_logs  # noqa: E402  (health attaches its views to bp)


def init_app(app: Flask) -> None:
    """Configure logging, give every request an id and a log line, and serve the health checks."""
    logs.configure(app)
    request_ids.init_app(app)
    request_logs.init_app(app)
    app.register_blueprint(bp)

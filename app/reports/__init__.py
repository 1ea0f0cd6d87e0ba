from flask import Blueprint

bp = Blueprint("reports", __name__)

from . import demo, jobs, views  # noqa: E402,F401

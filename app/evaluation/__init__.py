from flask import Blueprint

bp = Blueprint("evaluation", __name__)

from . import demo, jobs, views  # noqa: E402,F401

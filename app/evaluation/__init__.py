from flask import Blueprint

bp = Blueprint("evaluation", __name__)

from . import views  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("courses", __name__)

from . import admin_views, demo, views  # noqa: E402,F401

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from . import admin_views, views  # noqa: E402,F401

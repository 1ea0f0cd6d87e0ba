"""The home page and the service's standing pages."""
from flask import render_template

from app.accounts.access import public
from app.main import bp


@bp.route("/")
@public
def index():
    return render_template("main/index.html")


@bp.route("/accessibility")
@public
def accessibility():
    return render_template("main/accessibility.html")


@bp.route("/privacy")
@public
def privacy():
    return render_template("main/privacy.html")

"""Suspensions from booking after missed places: who is suspended, and lifting one (administrators)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, requires
from app.attendance import bp, queries
from app.attendance.forms import ReasonForm
from app.attendance.models import Suspension
from app.attendance.suspensions import lift_suspension
from app.extensions import db
from app.refusals import refusals


@bp.route("/suspensions")
@requires(ADMIN)
def suspensions():
    record_access("suspensions")
    return render_template("attendance/suspensions.html", active=queries.all_active_suspensions(),
                           lifted=queries.recently_lifted_suspensions(),
                           lift_form=ReasonForm(prefix="lift"))


@bp.route("/suspensions/<int:suspension_id>/lift", methods=["POST"])
@requires(ADMIN)
def lift(suspension_id: int):
    suspension = db.session.get(Suspension, suspension_id) or abort(404)
    form = ReasonForm(prefix="lift")
    if not form.validate_on_submit():
        flash("Say why the suspension is lifted.", "error")
        return redirect(url_for("attendance.suspensions"))
    with refusals() as attempt:
        lift_suspension(suspension, current_user, form.reason.data)
    if not attempt.refused:
        flash(f"{suspension.user.name} can book again; they have been told by e-mail.", "success")
    return redirect(url_for("attendance.suspensions"))

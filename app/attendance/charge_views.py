"""Charges for missed places and late cancellations: the statement for invoicing, waiving and reinstating."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, requires
from app.attendance import bp, queries
from app.attendance.forms import ReasonForm
from app.attendance.models import CHARGE_STATUS_LABELS, Charge
from app.attendance.charges import record_payment, reinstate_charge, waive_charge
from app.exports import csv_download
from app.extensions import db
from app.filters import Viewer, read_period_filters, recent_period
from app.refusals import refusals


def _statement():
    """The period asked for, and its charges for every agency with the status asked for (if any)."""
    form, _agency, period, _course_id = read_period_filters(
        Viewer.of(current_user, sees_all=(ADMIN,)), recent_period(), queries.courses_for_filter())
    status = request.args.get("status", "")
    statement = queries.charges_statement(period.starts_on, period.ends_on)
    if status in CHARGE_STATUS_LABELS:
        statement = [c for c in statement if c.status == status]
    return form, period, status, statement


@bp.route("/charges")
@requires(ADMIN)
def charges():
    form, period, status, statement = _statement()
    record_access("charges", scope=f"{period.starts_on} to {period.ends_on}")
    return render_template(
        "attendance/charges.html", form=form, start=period.starts_on, end=period.ends_on,
        charges=statement, totals=queries.charge_totals(statement),
        by_agency=queries.charge_totals_by_agency(statement), status=status, args=period.args(),
        waive_form=ReasonForm(prefix="waive"),
    )


@bp.route("/charges.csv")
@requires(ADMIN)
def charges_csv():
    _form, period, _status, statement = _statement()
    record_access("charges", scope=f"{period.starts_on} to {period.ends_on}")
    return csv_download(f"charges-all-agencies-{period.starts_on}-to-{period.ends_on}.csv",
                        queries.CHARGE_HEADER, queries.charge_rows(statement))


def _back_to(default: str) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.route("/charges/<int:charge_id>/waive", methods=["POST"])
@requires(ADMIN)
def waive(charge_id: int):
    charge = db.session.get(Charge, charge_id) or abort(404)
    form = ReasonForm(prefix="waive")
    back = _back_to(url_for("attendance.correct", booking_id=charge.booking_id))
    if not form.validate_on_submit():
        flash("Say why the charge is waived, for example illness.", "error")
        return redirect(back)
    with refusals() as attempt:
        waive_charge(charge, current_user, form.reason.data)
    if not attempt.refused:
        flash(f"The charge for {charge.user.name} is waived.", "success")
    return redirect(back)


@bp.route("/charges/<int:charge_id>/reinstate", methods=["POST"])
@requires(ADMIN)
def reinstate(charge_id: int):
    charge = db.session.get(Charge, charge_id) or abort(404)
    with refusals() as attempt:
        reinstate_charge(charge, current_user)
    if not attempt.refused:
        flash(f"The charge for {charge.user.name} is due again.", "success")
    return redirect(_back_to(url_for("attendance.correct", booking_id=charge.booking_id)))


@bp.route("/charges/<int:charge_id>/paid", methods=["POST"])
@requires(ADMIN)
def paid(charge_id: int):
    charge = db.session.get(Charge, charge_id) or abort(404)
    back = _back_to(url_for("attendance.charges"))
    with refusals() as attempt:
        record_payment(charge, current_user)
    if not attempt.refused:
        flash("The charge is recorded as paid.", "success")
    return redirect(back)

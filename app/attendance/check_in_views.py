"""Check-in at an event: the scanner page for its trainers and organisers, the door code, and the
page where a person confirms their own arrival."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, TRAINER, requires, signed_in
from app.attendance import bp, queries
from app.attendance.check_in import ALREADY, check_in, door_refusal, self_check_in
from app.attendance.forms import ArrivalForm, CheckInCodeForm
from app.attendance.register import booking_agency, marking_refusal, surname
from app.attendance.register_views import _session_for_register
from app.bookings.check_in_codes import door_token, qr_svg, read_door_token
from app.bookings.errors import BookingError
from app.bookings.queries import booking_for
from app.courses.models import DRAFT, Session
from app.exports import csv_download, file_slug
from app.extensions import db
from app.refusals import refusals
from app.templating import format_time
from app.urls import external_url


def _message(result) -> str:
    name = result.booking.user.name
    if result.result == ALREADY:
        return f"{name} is already checked in (at {format_time(result.at)})."
    return f"{name} is checked in."


def _counts(session: Session) -> tuple[int, int]:
    return queries.arrival_counts(session)


@bp.route("/registers/<int:session_id>/check-in", methods=["GET", "POST"])
@requires(TRAINER, ADMIN)
def check_in_page(session_id: int):
    session = _session_for_register(session_id)
    form = CheckInCodeForm()
    if form.validate_on_submit():
        with refusals(form, "code") as attempt:
            result = check_in(session, form.code.data, current_user)
            message = _message(result)
        if not attempt.refused:
            record_access("booking", subject_user_id=result.booking.user_id, scope=f"booking {result.booking.id}")
            flash(message, "success")
            return redirect(url_for("attendance.check_in_page", session_id=session.id))
    on_register, arrived = _counts(session)
    record_access("register", scope=f"session {session.id}")
    return render_template("attendance/check_in.html", session=session, form=form,
                           refusal=marking_refusal(session, current_user),
                           on_register=on_register, arrived=arrived)


@bp.route("/registers/<int:session_id>/check-in/scans", methods=["POST"])
@requires(TRAINER, ADMIN)
def check_in_scan(session_id: int):
    """A scan the page's queue sends (JSON in and out): answered 200 whatever the outcome, so
    the queue keeps nothing the server has already decided on."""
    session = _session_for_register(session_id)
    data = request.get_json(silent=True)
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(code, str):
        return jsonify(result="refused", message="The scan sent nothing to read. Scan the code again."), 422
    with refusals(show=False) as attempt:
        result = check_in(session, code, current_user)
        message = _message(result)
    if attempt.refused:
        return jsonify(result="refused", message=attempt.message)
    record_access("booking", subject_user_id=result.booking.user_id, scope=f"booking {result.booking.id}")
    on_register, arrived = _counts(session)
    return jsonify(result=result.result, message=message, arrived=arrived, on_register=on_register)


@bp.route("/registers/<int:session_id>/door-code")
@requires(TRAINER, ADMIN)
def door_code(session_id: int):
    session = _session_for_register(session_id)
    link = external_url("attendance.arrival", token=door_token(session.id))
    return render_template("attendance/door_code.html", session=session, link=link,
                           qr=qr_svg(link, f"Check-in code for {session.course.title}"))


@bp.route("/check-in/<token>", methods=["GET", "POST"])
@signed_in
def arrival(token: str):
    try:
        session_id = read_door_token(token)
    except BookingError as exc:
        return render_template("attendance/arrival_problem.html", message=exc.message), 404
    session = db.session.get(Session, session_id)
    if session is None or session.status == DRAFT:
        abort(404)
    booking = booking_for(session.id, current_user.id)
    form = ArrivalForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            result = self_check_in(session, booking, current_user)
        if not attempt.refused:
            return render_template("attendance/arrival_done.html", session=session, result=result,
                                   already=result.result == ALREADY)
        return redirect(url_for("attendance.arrival", token=token))
    return render_template("attendance/arrival.html", session=session, booking=booking, form=form,
                           refusal=door_refusal(session))


@bp.route("/registers/<int:session_id>/workshops.csv")
@requires(TRAINER, ADMIN)
def workshop_lists_csv(session_id: int):
    """Who chose each workshop of a conference, for its leads (a spreadsheet)."""
    session = _session_for_register(session_id)
    header = ["Workshop", "Starts", "Ends", "Room", "Surname", "Name", "Agency", "Access or dietary needs",
              "Attendance"]
    rows = []
    for item, booking in queries.workshop_rows(session):
        agency = booking_agency(booking)
        rows.append([item.title, format_time(item.starts_at), format_time(item.ends_at), item.room,
                     surname(booking.user.name), booking.user.name, agency.name if agency else "",
                     booking.access_needs, booking.outcome_label])
    record_access("register", scope=f"session {session.id}")
    return csv_download(f"workshops-{file_slug(session.course.title)}-{session.id}.csv", header, rows)

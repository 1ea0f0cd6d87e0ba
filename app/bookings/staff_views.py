"""A coordinator's pages for one member of their agency's staff: book, move and cancel their places.

Only coordinators, and only for people of an agency they coordinate (anyone else: 404, as for
someone who does not exist). The rules are the person's own (bookings.on_behalf); each page that
shows the person's bookings writes the access log.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import COORDINATOR, requires
from app.accounts.models import User
from app.bookings import bp, queries
from app.bookings.cancellation import is_late_cancellation
from app.bookings.forms import StaffBookForm, StaffCancelForm, StaffMoveForm
from app.bookings.models import CONFIRMED, WAITING, Booking
from app.bookings.on_behalf import book_for_staff, cancel_for_staff, coordinates, move_for_staff
from app.courses.models import Session
from app.extensions import db
from app.refusals import refusals
from app.templating import format_datetime


def _staff_or_404(person_id: int) -> User:
    person = db.session.get(User, person_id)
    if person is None or person.id == current_user.id or not coordinates(current_user, person):
        abort(404)
    return person


def _staff_booking_or_404(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.user_id == current_user.id or not coordinates(current_user, booking.user) \
            or booking.agency_id not in current_user.coordinated_agency_ids:
        abort(404)
    return booking


def _label(session: Session) -> str:
    return f"{session.course.title}, {format_datetime(session.starts_at)}"


@bp.route("/agency/staff/<int:person_id>", methods=["GET", "POST"])
@requires(COORDINATOR)
def staff_bookings(person_id: int):
    person = _staff_or_404(person_id)
    form = StaffBookForm()
    form.session_id.choices = [(0, "Choose a session")] + [(s.id, _label(s)) for s in queries.sessions_open_to_book()]
    if form.validate_on_submit():
        session = db.session.get(Session, form.session_id.data) if form.session_id.data else None
        if session is None:
            form.session_id.errors = list(form.session_id.errors) + ["Choose the session to book"]
        else:
            with refusals(form, "session_id") as attempt:
                booking = book_for_staff(current_user, person, session)
                status = booking.status
            if not attempt.refused:
                flash({CONFIRMED: f"{person.name} is booked. We have e-mailed them a calendar invitation.",
                       WAITING: f"The session is full for {person.name}, so they are on the waiting list."}.get(
                    status, f"A place is held for {person.name} and their line manager has been asked to agree."),
                    "success")
                return redirect(url_for("bookings.staff_bookings", person_id=person.id))
    upcoming, _ = queries.bookings_for(person)
    record_access("booking", subject_user_id=person.id, scope=f"person {person.id}")
    return render_template("bookings/staff_bookings.html", person=person, form=form, upcoming=upcoming,
                           positions=queries.waiting_positions(upcoming), can_change=queries.can_change)


@bp.route("/agency/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@requires(COORDINATOR)
def staff_cancel(booking_id: int):
    booking = _staff_booking_or_404(booking_id)
    back = url_for("bookings.staff_bookings", person_id=booking.user_id)
    if not queries.can_change(booking):
        flash("This booking can no longer be cancelled here. Contact the L&D team if you need help.", "error")
        return redirect(back)
    form = StaffCancelForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            late = cancel_for_staff(current_user, booking, form.reason.data or "").late_cancellation
        if not attempt.refused:
            flash("The booking is cancelled." + (" It was inside the notice period, so it counts as a late "
                                                 "cancellation and may be charged to the agency." if late else ""),
                  "success")
            return redirect(back)
    record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template("bookings/staff_cancel.html", booking=booking, session=booking.session, form=form,
                           back=back, late=booking.status == CONFIRMED and is_late_cancellation(booking.session))


@bp.route("/agency/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@requires(COORDINATOR)
def staff_move(booking_id: int):
    booking = _staff_booking_or_404(booking_id)
    back = url_for("bookings.staff_bookings", person_id=booking.user_id)
    if not queries.can_change(booking):
        flash("This booking can no longer be moved here. Contact the L&D team if you need help.", "error")
        return redirect(back)
    form = StaffMoveForm()
    form.session_id.choices = [(0, "Choose a session")] + [
        (s.id, format_datetime(s.starts_at)) for s in queries.sessions_for_moving(booking)]
    if form.validate_on_submit():
        to_session = db.session.get(Session, form.session_id.data) if form.session_id.data else None
        if to_session is None:
            form.session_id.errors = list(form.session_id.errors) + ["Choose the session to move them to"]
        else:
            with refusals(form, "session_id") as attempt:
                move_for_staff(current_user, booking, to_session)
            if not attempt.refused:
                flash("The booking has moved. We have e-mailed them.", "success")
                return redirect(back)
    record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template("bookings/staff_move.html", booking=booking, session=booking.session, form=form,
                           back=back)

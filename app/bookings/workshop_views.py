"""Conference workshops: choosing them when booking, changing them later, and the person's codes."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, signed_in
from app.bookings import bp
from app.bookings.check_in_codes import place_token, qr_svg, short_code
from app.bookings.forms import WorkshopChoiceForm
from app.bookings.models import CONFIRMED, HOLDS_PLACE, Booking
from app.bookings.workshops import change_workshops, choices_open, programme_lines, slots
from app.courses.models import Session
from app.extensions import db
from app.inputs import whole_number
from app.refusals import refusals


def chosen_workshop_ids(session: Session) -> list[int]:
    """The workshops picked on the form, one field per slot (a value that is not a number is
    passed on as -1, which the rule refuses as not part of the event)."""
    chosen = []
    for slot in slots(session):
        value = request.form.get(slot.key, "")
        if value:
            number = whole_number(value)
            chosen.append(number if number is not None else -1)
    return chosen


def slot_choices(session: Session, booking: Booking | None = None) -> list[dict]:
    """Each slot with its workshops as radio items (full ones disabled unless already chosen)."""
    chosen = {c.item_id for c in booking.workshop_choices} if booking else set()
    if request.method == "POST":
        chosen = set(chosen_workshop_ids(session))
    return [{"slot": slot, "chosen": chosen, "none_chosen": not chosen & {w.id for w in slot.workshops}}
            for slot in slots(session)]


def _booking_for_workshops(booking_id: int) -> Booking:
    """The person's own booking at a conference; the L&D team may open anyone's."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not booking.session.is_conference:
        abort(404)
    if booking.user_id != current_user.id and not current_user.has_role(ADMIN):
        abort(404)
    return booking


@bp.route("/bookings/<int:booking_id>/workshops", methods=["GET", "POST"])
@signed_in
def workshops(booking_id: int):
    booking = _booking_for_workshops(booking_id)
    session = booking.session
    own = booking.user_id == current_user.id
    form = WorkshopChoiceForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            changed = change_workshops(booking, chosen_workshop_ids(session), current_user)
        if not attempt.refused:
            if own:
                flash("Your workshops are changed. We have e-mailed you your new programme."
                      if changed else "Your workshops are as they were.", "success")
                return redirect(url_for("bookings.my_bookings"))
            flash(f"{booking.user.name}’s workshops are changed; they have been e-mailed their new programme."
                  if changed else "The workshops are as they were.", "success")
            return redirect(url_for("bookings.admin_booking", booking_id=booking.id))
    if not own:
        record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template("bookings/workshops.html", booking=booking, session=session, form=form, own=own,
                           slot_choices=slot_choices(session, booking),
                           open=choices_open(session) or current_user.has_role(ADMIN),
                           holds_place=booking.status in HOLDS_PLACE, programme=programme_lines(booking))


def check_in_codes(bookings: list[Booking]) -> list[dict]:
    """For each confirmed place: its QR code (inline SVG) and short code; for every place at a
    conference (a place held for the manager's answer too), the person's programme."""
    codes = []
    for booking in bookings:
        confirmed = booking.status == CONFIRMED
        conference = booking.session.is_conference and booking.status in HOLDS_PLACE
        if not (confirmed or conference):
            continue
        title = f"Check-in code for {booking.session.course.title}"
        codes.append({
            "booking": booking,
            "qr": qr_svg(place_token(booking), title) if confirmed else "",
            "code": short_code(booking) if confirmed else "",
            "conference": conference, "can_change": choices_open(booking.session),
            "programme": programme_lines(booking) if booking.session.programme else [],
        })
    return codes

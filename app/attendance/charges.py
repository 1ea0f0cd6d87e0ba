"""Charges to an agency for no-shows and late cancellations, and waiving them."""
from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import ADMIN, User
from app.attendance.dates import first_day
from app.attendance.errors import AttendanceError
from app.attendance.models import (
    CHARGE_DID_NOT_ATTEND,
    CHARGE_DUE,
    CHARGE_LATE_CANCELLATION,
    CHARGE_TURNED_AWAY,
    CHARGE_VOID,
    CHARGE_WAIVED,
    Charge,
)
from app.bookings.models import CANCELLED, DID_NOT_ATTEND, TURNED_AWAY, Booking
from app.clock import today_london, utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.extensions import db


CHARGE_FOR_OUTCOME = {DID_NOT_ATTEND: CHARGE_DID_NOT_ATTEND, TURNED_AWAY: CHARGE_TURNED_AWAY}


def charge_for(booking: Booking) -> Charge | None:
    if booking.id is None:
        return None
    return db.session.scalar(select(Charge).where(Charge.booking_id == booking.id))


def raise_charge(booking: Booking, reason: str) -> Charge | None:
    """Charge the booking's agency the course's charge (again, if a charge was voided)."""
    session = booking.session
    amount = session.course.non_attendance_charge_pence or 0
    charge = charge_for(booking)
    now = utcnow()
    if charge is None:
        if amount <= 0:
            return None
        charge = Charge(
            booking_id=booking.id, agency_id=booking.agency_id or booking.user.agency_id,
            user_id=booking.user_id, session_id=session.id, course_id=session.course_id,
            reason=reason, amount_pence=amount, incurred_on=first_day(session) or today_london(),
            status=CHARGE_DUE, created_at=now, updated_at=now,
        )
        db.session.add(charge)
        return charge
    if charge.status == CHARGE_VOID:
        if amount <= 0:
            return charge
        charge.status = CHARGE_DUE
        charge.amount_pence = amount
        charge.voided_at = None
        charge.waiver_reason = ""
        charge.waived_by_id = None
        charge.waived_at = None
    charge.reason = reason
    charge.updated_at = now
    return charge


def void_charge(booking: Booking) -> None:
    """Void the booking's charge, if it has one."""
    charge = charge_for(booking)
    if charge is not None and charge.status != CHARGE_VOID:
        charge.status = CHARGE_VOID
        charge.voided_at = charge.updated_at = utcnow()


def charge_late_cancellation(booking: Booking) -> Charge | None:
    """Charge the agency for a late cancellation (once), unless the session itself was cancelled."""
    if (
        booking.status != CANCELLED
        or not booking.late_cancellation
        or booking.session.status == SESSION_CANCELLED
    ):
        return None
    existing = charge_for(booking)
    if existing is not None:
        return existing
    return raise_charge(booking, CHARGE_LATE_CANCELLATION)


def raise_late_cancellation_charges() -> int:
    """Charge every late cancellation not charged yet; return how many charges were raised."""
    bookings = db.session.scalars(
        select(Booking)
        .outerjoin(Charge, Charge.booking_id == Booking.id)
        .where(Booking.status == CANCELLED, Booking.late_cancellation.is_(True), Charge.id.is_(None))
        .order_by(Booking.id)
    ).all()
    raised = 0
    for booking in bookings:
        if charge_late_cancellation(booking) is not None:
            raised += 1
    return raised


def waive_charge(charge: Charge, actor: User, reason: str) -> None:
    """Waive a charge (administrators), saying why: illness is the common reason."""
    if not actor.has_role(ADMIN):
        raise AttendanceError("Only the L&D team can waive a charge.")
    if charge.status != CHARGE_DUE:
        raise AttendanceError("Only a charge that is due can be waived.")
    if not (reason or "").strip():
        raise AttendanceError("Say why the charge is waived, for example illness", "reason")
    charge.status = CHARGE_WAIVED
    charge.waiver_reason = reason.strip()
    charge.waived_by_id = actor.id
    charge.waived_at = charge.updated_at = utcnow()


def reinstate_charge(charge: Charge, actor: User) -> None:
    """Undo a waiver made in error (administrators)."""
    if not actor.has_role(ADMIN):
        raise AttendanceError("Only the L&D team can reinstate a charge.")
    if charge.status != CHARGE_WAIVED:
        raise AttendanceError("Only a waived charge can be reinstated.")
    charge.status = CHARGE_DUE
    charge.waiver_reason = ""
    charge.waived_by_id = None
    charge.waived_at = None
    charge.updated_at = utcnow()


def record_payment(charge: Charge, actor: User) -> None:
    """Record that the agency has paid a due charge (administrators); it stays in the statement."""
    if not actor.has_role(ADMIN):
        raise AttendanceError("Only the L&D team can record a payment.")
    if charge.status != CHARGE_DUE:
        raise AttendanceError("Only a charge that is due can be paid.")
    if charge.paid_at is not None:
        raise AttendanceError("This charge is already recorded as paid.")
    charge.paid_at = charge.updated_at = utcnow()
    charge.paid_recorded_by_id = actor.id

"""Coordinators acting for their own agency's staff: booking, moving and cancelling their places.

A coordinator goes through exactly the rules a person booking for themselves does (`book_place`,
`cancel_booking`, `move_booking` without overbooking): quotas, the booking window, prerequisites,
suspensions, the line manager's agreement where the course needs it, late-cancellation charges and
the waiting list. The booking history names the coordinator as the one who did it. They may act
only for people of an agency they coordinate (`RoleGrant.agency_id`); anyone else gets the same
refusal as someone who does not exist, so the pages cannot be used to find out who has an account.

Other callers (the JSON API) use these three functions with the coordinator as `coordinator`.
"""
from __future__ import annotations

from app.accounts.models import COORDINATOR, User
from app.bookings.booking import book_place
from app.bookings.cancellation import cancel_booking
from app.bookings.eligibility import eligibility_problem
from app.bookings.errors import BookingError
from app.bookings.models import ACTIVE_STATES, Booking
from app.bookings.moves import move_booking
from app.courses.models import Session

NOT_YOURS = "We cannot find that person in an agency you coordinate."
NOTE = "by their agency’s coordinator"


def coordinates(coordinator: User, person: User) -> bool:
    """True when `coordinator` is a coordinator of the agency `person` works for."""
    return (coordinator.has_role(COORDINATOR) and person.agency_id is not None
            and person.agency_id in coordinator.coordinated_agency_ids)


def _check(coordinator: User, person: User) -> None:
    if not coordinates(coordinator, person) or coordinator.id == person.id:
        raise BookingError(NOT_YOURS, kind="not_coordinated")


def book_for_staff(coordinator: User, person: User, session: Session, note: str = NOTE) -> Booking:
    """Book a place (or a waiting place) on `session` for a member of the coordinator's agency.

    The normal rules apply (no override of the window, quotas or prerequisites); the line manager is
    asked to agree where the course needs it, and the history records the coordinator as the actor
    (`note`: how they booked, added to the history row; the API says it came through the agency's
    system).
    """
    _check(coordinator, person)
    return book_place(session, person, coordinator, note=note)


def cancel_for_staff(coordinator: User, booking: Booking, reason: str = "") -> Booking:
    """Cancel a staff member's place or waiting place (late cancellations are charged as usual)."""
    _check(coordinator, booking.user)
    if booking.agency_id is not None and booking.agency_id not in coordinator.coordinated_agency_ids:
        raise BookingError(NOT_YOURS, kind="not_coordinated")
    return cancel_booking(booking, coordinator, reason, by_coordinator=True)


def move_for_staff(coordinator: User, booking: Booking, to_session: Session) -> Booking:
    """Move a staff member's booking to another date of the same course, only into a free place they
    may fill and while that date is open for booking (never over capacity)."""
    _check(coordinator, booking.user)
    if booking.status not in ACTIVE_STATES:
        raise BookingError("This booking is no longer active, so it cannot be moved.")
    problem = eligibility_problem(to_session, booking.user, you=False, needs_manager=False,
                                  only=frozenset({"account_active", "session_open", "within_booking_window",
                                                  "not_booked_here", "not_suspended"}))
    if problem:
        raise BookingError(problem, "session_id")
    return move_booking(booking, to_session, coordinator, overbook=False)

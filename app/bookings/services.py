"""The booking rules: book, agree, wait, cancel, pass on, move; the waiting list; completions.

Every service that gives out a place locks the session row first (app.locking.lock_rows), then
re-counts places inside the lock, then writes: two people can never both take the last place.
Services add and flush; the view or job that called them commits once.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.accounts.details import on_manager_changed
from app.accounts.models import ACTIVE, ADMIN, User, find_user_by_email
from app.attendance.models import Suspension
from app.attendance.suspensions import active_suspension
from app.bookings import notifications as notify
from app.bookings.approvals import AGREE
from app.bookings.history import change_status
from app.bookings.models import (
    ACTIVE_STATES,
    AWAITING_APPROVAL,
    CANCELLED,
    CONFIRMED,
    DECLINED,
    HOLDS_PLACE,
    LAPSED,
    STATE_LABELS,
    TRANSFERRED,
    WAITING,
    ACCEPTED,
    PRIOR_LEARNING,
    REJECTED,
    SELF_RECORDED,
    Booking,
    BookingEvent,
    Completion,
)
from app.bookings.places import availability_for, is_released
from app.bookings.working_days import cancellation_deadline, working_days_later
from app.calendar import FeedEntry
from app.clock import today_london, utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import PUBLISHED, Course, Session, SessionChange
from app.errors import DomainError
from app.extensions import db
from app.locking import lock_rows
from app.templating import format_date, format_datetime

APPROVAL_WORKING_DAYS = 5
NO_AUTOMATIC_PROMOTION = timedelta(hours=24)
CERTIFICATE_MAX_BYTES = 5 * 1024 * 1024
# What an uploaded certificate may be, told by its first bytes (not by its name or the browser's word).
CERTIFICATE_TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class BookingError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any."""


# ---------------------------------------------------------------- who may book


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _suspension_message(suspension: Suspension, you: bool, name: str) -> str:
    who = "Your booking is" if you else f"{name}’s booking is"
    when = f" until {format_date(suspension.until)}"
    return (f"{who} suspended{when} after sessions were missed without notice. "
            "Contact the L&D team if you think this is wrong.")


def _booking_for(session_id: int, user_id: int) -> Booking | None:
    return db.session.scalar(
        select(Booking)
        .where(Booking.session_id == session_id, Booking.user_id == user_id)
        .execution_options(populate_existing=True)
    )


def eligibility_problem(
    session: Session,
    person: User,
    *,
    ignore_window: bool = False,
    allow_waiting_here: bool = False,
    needs_manager: bool | None = None,
    you: bool = True,
    check_prerequisites: bool = True,
) -> str | None:
    """Say why `person` cannot book `session` now, or None when they can."""
    now = utcnow()
    name = person.name
    subject = "You" if you else name
    if not person.is_verified:
        return ("Confirm your e-mail address before you book: use the link we sent you."
                if you else f"{name} has not confirmed their e-mail address yet.")
    if person.status != ACTIVE:
        return ("Your account is not active, so you cannot book. Contact the L&D team."
                if you else f"{name}’s account is not active.")
    if session.status == SESSION_CANCELLED:
        return "This session has been cancelled."
    if session.status != PUBLISHED:
        return "This session has not been published, so it cannot be booked yet."
    if session.starts_at is None or session.starts_at <= now:
        return "This session has already started, so booking has closed."
    if session.course.is_online:
        return "This is an online course: there is nothing to book. Record it when you have completed it."
    if not ignore_window:
        if session.booking_opens_at and now < session.booking_opens_at:
            return f"Booking for this session opens on {format_datetime(session.booking_opens_at)}."
        if session.booking_closes_at and now >= session.booking_closes_at:
            return f"Booking for this session closed on {format_datetime(session.booking_closes_at)}."
    mine = _booking_for(session.id, person.id)
    if mine is not None and mine.status in ACTIVE_STATES:
        if mine.status == WAITING and not allow_waiting_here:
            return ("You are already on the waiting list for this session." if you
                    else f"{name} is already on the waiting list for this session.")
        if mine.status == AWAITING_APPROVAL:
            return ("You already have a place on this session, waiting for your manager to agree."
                    if you else f"{name} already has a place on this session.")
        if mine.status == CONFIRMED:
            return ("You already have a place on this session." if you
                    else f"{name} already has a place on this session.")
    other = db.session.execute(
        select(Booking.status, Session.starts_at)
        .join(Session, Booking.session_id == Session.id)
        .where(
            Booking.user_id == person.id,
            Booking.status.in_(ACTIVE_STATES),
            Session.course_id == session.course_id,
            Session.id != session.id,
            Session.status != SESSION_CANCELLED,
            Session.starts_at > now,
        )
        .order_by(Session.starts_at)
        .limit(1)
    ).first()
    if other is not None:
        status, starts_at = other
        has = "are" if you else "is"
        what = (f"{subject} {has} already on the waiting list for this course on {format_date(starts_at)}"
                if status == WAITING else
                f"{subject} already {'have' if you else 'has'} a place on this course on {format_date(starts_at)}")
        return f"{what}. Cancel that booking first to come on this date instead."
    missing = missing_prerequisites(session.course, person) if check_prerequisites else []
    if missing:
        message = (f"{'You need' if you else name + ' needs'} to complete {_and_list([c.title for c in missing])} "
                   "before booking this course.")
        if _awaiting_check(person, missing):
            message += (" The training you recorded from elsewhere is waiting for the L&D team to check it."
                        if you else f" {name} has recorded training from elsewhere that is waiting to be checked.")
        return message
    suspension = active_suspension(person)
    if suspension:
        return _suspension_message(suspension, you, name)
    needs_manager = session.course.requires_manager_approval if needs_manager is None else needs_manager
    if needs_manager and not person.line_manager_email:
        return ("This course needs your line manager to agree. Add their e-mail address on your account "
                "page (Your account, Line manager) first."
                if you else f"{name} has no line manager e-mail address on their account.")
    return None


def missing_prerequisites(course: Course, person: User) -> list[Course]:
    """The course's prerequisites the person has not completed (prior learning counts once accepted)."""
    prerequisites = course.prerequisites
    if not prerequisites:
        return []
    done = set(
        db.session.scalars(
            select(Completion.course_id).where(
                Completion.user_id == person.id,
                Completion.course_id.in_([c.id for c in prerequisites]),
                Completion.counts,
            )
        )
    )
    return [c for c in prerequisites if c.id not in done]


def _awaiting_check(person: User, courses: list[Course]) -> bool:
    """True when the person has learning done elsewhere, not yet checked, for one of `courses`."""
    return db.session.scalar(
        select(Completion.id).where(
            Completion.user_id == person.id, Completion.source == PRIOR_LEARNING,
            Completion.check_result.is_(None), Completion.course_id.in_([c.id for c in courses]),
        ).limit(1)
    ) is not None


def _sector_id(agency) -> int | None:
    return agency.sector_id if agency is not None else None


def place_preview(session: Session, person: User) -> tuple[bool, str]:
    """What booking now would give: (a place?, which place in words) for the confirmation page."""
    availability = availability_for([session])[session.id]
    has_place, reservation_id = availability.place_for(person.agency_id, _sector_id(person.agency))
    if not has_place:
        return False, "the waiting list"
    if reservation_id is None:
        return True, "a general place"
    pool = next(p for p in availability.pools if p.reservation_id == reservation_id)
    return True, f"a place reserved for {pool.label}"


# ---------------------------------------------------------------- writing a booking


def _write_booking(
    session: Session,
    person: User,
    status: str,
    actor: User | None,
    reason: str,
    *,
    reservation_id: int | None = None,
    overbooked: bool = False,
    access_needs: str = "",
) -> tuple[Booking, BookingEvent]:
    """Create (or reuse: one row per person per session) the person's booking in `status`, with its
    history row."""
    now = utcnow()
    booking = _booking_for(session.id, person.id)
    fresh = booking is None
    if fresh:
        booking = Booking(session_id=session.id, user_id=person.id, created_at=now)
    booking.agency_id = person.agency_id
    booking.reservation_id = reservation_id if status in HOLDS_PLACE else None
    booking.waiting_since = now if status == WAITING else None
    booking.booked_by_id = actor.id if actor else None
    booking.overbooked = overbooked
    booking.access_needs = access_needs.strip()
    booking.manager_email = person.line_manager_email or ""
    booking.approval_requested_at = booking.approval_due_at = booking.approved_at = None
    booking.confirmed_at = now if status == CONFIRMED else None
    booking.cancelled_at = None
    booking.late_cancellation = False
    booking.cancellation_reason = ""
    if not fresh:
        event = change_status(booking, status, actor, reason)
        db.session.flush()
        return booking, event
    try:
        # A savepoint: if the same person's other request inserted first, only this insert is undone.
        with db.session.begin_nested():
            event = change_status(booking, status, actor, reason)
            db.session.flush()
    except IntegrityError as exc:
        raise BookingError("You already have a booking on this session.") from exc
    return booking, event


def _request_approval(booking: Booking, session: Session) -> None:
    now = utcnow()
    booking.approval_requested_at = now
    due = working_days_later(now, APPROVAL_WORKING_DAYS)
    booking.approval_due_at = min(due, session.starts_at) if session.starts_at else due


def _lock_session(session_id: int) -> Session:
    locked = lock_rows(Session, [session_id])
    if not locked:
        raise BookingError("This session no longer exists.")
    return locked[0]


def _refresh(booking: Booking) -> Booking:
    fresh = db.session.scalar(
        select(Booking).where(Booking.id == booking.id).execution_options(populate_existing=True)
    )
    if fresh is None:
        raise BookingError("This booking no longer exists.")
    return fresh


def book_place(
    session: Session,
    person: User,
    actor: User,
    *,
    access_needs: str = "",
    on_behalf: bool = False,
    overbook: bool = False,
    manager_agreed: bool = False,
    prerequisite_override: str = "",
) -> Booking:
    """Give a person a place on a session, or a place on its waiting list when it is full for them.

    `on_behalf` (the L&D team) ignores the booking window; `overbook` gives a place even when none
    is free; `manager_agreed` records that the line manager has already agreed;
    `prerequisite_override` (the L&D team, with a reason) books them without a missing prerequisite.
    """
    override = prerequisite_override.strip()
    if override and not (on_behalf and actor.has_role(ADMIN)):
        raise BookingError("Only the L&D team can book someone without a prerequisite.")
    session = _lock_session(session.id)
    lock_rows(User, [person.id])  # one person's two requests for two dates of a course queue here
    needs_manager = session.course.requires_manager_approval and not manager_agreed
    problem = eligibility_problem(
        session, person, ignore_window=on_behalf, needs_manager=needs_manager, you=actor.id == person.id,
        check_prerequisites=not override,
    )
    if problem:
        raise BookingError(problem)
    overridden = missing_prerequisites(session.course, person) if override else []
    availability = availability_for([session])[session.id]
    has_place, reservation_id = availability.place_for(person.agency_id, _sector_id(person.agency))
    overbooked = False
    if not has_place and overbook:
        has_place, reservation_id, overbooked = True, None, True
    if has_place:
        status = AWAITING_APPROVAL if needs_manager else CONFIRMED
    else:
        status = WAITING
    if on_behalf:
        reason = "Booked by the L&D team"
        if overbooked:
            reason += ", over capacity (overbooked)"
        if manager_agreed and session.course.requires_manager_approval:
            reason += "; line manager's agreement recorded by the L&D team"
        if overridden:
            reason += (f"; prerequisite {_and_list([c.title for c in overridden])} overridden by the "
                       f"L&D team: {override[:1000]}")
    else:
        reason = "Booked" if has_place else "Joined the waiting list: no place free for them"
    booking, event = _write_booking(
        session, person, status, actor, reason, reservation_id=reservation_id,
        overbooked=overbooked, access_needs=access_needs,
    )
    if status == AWAITING_APPROVAL:
        _request_approval(booking, session)
        notify.notify_manager_asked(booking, event)
        notify.notify_awaiting_manager(booking, event)
    elif status == CONFIRMED:
        if manager_agreed and session.course.requires_manager_approval:
            booking.approved_at = utcnow()
        notify.notify_confirmed(booking, event)
    else:
        notify.notify_waiting(booking, event)
    return booking


# ---------------------------------------------------------------- the waiting list


def waiting_list(session: Session) -> list[Booking]:
    """The session's waiting list in the order people joined."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status == WAITING)
            .order_by(Booking.waiting_since, Booking.id)
            .execution_options(populate_existing=True)
        )
    )


def _give_place(booking: Booking, session: Session, reservation_id: int | None, actor: User | None,
                reason: str, *, overbooked: bool = False, manager_agreed: bool = False) -> None:
    needs_manager = session.course.requires_manager_approval and not manager_agreed
    booking.reservation_id = reservation_id
    booking.overbooked = overbooked
    status = AWAITING_APPROVAL if needs_manager else CONFIRMED
    event = change_status(booking, status, actor, reason)
    if needs_manager:
        booking.manager_email = booking.user.line_manager_email or booking.manager_email
        _request_approval(booking, session)
    else:
        booking.confirmed_at = utcnow()
        if manager_agreed and session.course.requires_manager_approval:
            booking.approved_at = utcnow()
    notify.notify_promoted(booking, event)


def _session_event_mark(session: Session) -> int:
    """The latest history row of any booking on the session: marks 'this state of the session'."""
    return db.session.scalar(
        select(func.max(BookingEvent.id))
        .join(Booking, BookingEvent.booking_id == Booking.id)
        .where(Booking.session_id == session.id)
    ) or 0


def promote_from_waiting_list(session: Session, actor: User | None = None) -> list[Booking]:
    """Give free places to waiting people in the order they joined, each in a pool they may fill.

    Within 24 hours of the start nobody is promoted automatically: the L&D team is told instead.
    """
    session = _lock_session(session.id)
    now = utcnow()
    if session.status != PUBLISHED or session.starts_at is None or session.starts_at <= now:
        return []
    waiting = waiting_list(session)
    if not waiting:
        return []
    availability = availability_for([session], now)[session.id]
    if availability.left == 0:
        return []
    if session.starts_at - now < NO_AUTOMATIC_PROMOTION:
        notify.notify_place_free_late(session, availability.left, len(waiting), _session_event_mark(session))
        return []
    promoted = []
    for booking in waiting:
        if booking.user.status != ACTIVE:
            continue
        has_place, reservation_id = availability.place_for(booking.agency_id, _sector_id(booking.agency))
        if not has_place:
            continue
        _give_place(booking, session, reservation_id, actor, "A place came free: promoted from the waiting list")
        promoted.append(booking)
        db.session.flush()
        availability = availability_for([session], now)[session.id]
        if availability.left == 0:
            break
    return promoted


def promote_booking(booking: Booking, actor: User, *, overbook: bool = False,
                    manager_agreed: bool = False) -> Booking:
    """Give a waiting person a place by hand (L&D team), even within 24 hours of the start."""
    session = _lock_session(booking.session_id)
    booking = _refresh(booking)
    if booking.status != WAITING:
        raise BookingError(f"{booking.user.name} is not on the waiting list.")
    if session.status != PUBLISHED or session.starts_at is None or session.starts_at <= utcnow():
        raise BookingError("This session has started or is not open, so nobody can be given a place.")
    availability = availability_for([session])[session.id]
    has_place, reservation_id = availability.place_for(booking.agency_id, _sector_id(booking.agency))
    overbooked = False
    if not has_place:
        if not overbook:
            raise BookingError(
                f"There is no free place {booking.user.name} may fill. Tick ‘overbook’ to give them a place anyway.",
                "overbook",
            )
        reservation_id, overbooked = None, True
    reason = "Given a place by the L&D team" + (", over capacity (overbooked)" if overbooked else "")
    _give_place(booking, session, reservation_id, actor, reason, overbooked=overbooked,
                manager_agreed=manager_agreed)
    return booking


def _sessions_with_waiting(only_released: bool) -> list[Session]:
    now = utcnow()
    sessions = list(
        db.session.scalars(
            select(Session)
            .where(
                Session.status == PUBLISHED,
                Session.starts_at > now,
                Session.id.in_(select(Booking.session_id).where(Booking.status == WAITING)),
            )
            .order_by(Session.starts_at)
        )
    )
    if only_released:
        sessions = [s for s in sessions if is_released(s, now)]
    free = availability_for(sessions, now)
    return [s for s in sessions if free[s.id].left > 0]


def promote_waiting_lists(only_released: bool = False) -> int:
    """Promote waiting people on every upcoming session with free places; commit per session."""
    count = 0
    for session_id in [s.id for s in _sessions_with_waiting(only_released)]:
        count += len(promote_from_waiting_list(db.session.get(Session, session_id)))
        db.session.commit()
    return count


# ---------------------------------------------------------------- cancelling


def is_late_cancellation(session: Session, today: date | None = None) -> bool:
    """True once the course's notice period (working days) before the start has begun."""
    if session.starts_at is None:
        return False
    deadline = cancellation_deadline(session.starts_at, session.course.cancellation_notice_days)
    return (today or today_london()) > deadline


def cancel_booking(booking: Booking, actor: User, reason: str = "", *,
                   leaving_waiting_list: bool = False) -> Booking:
    """Cancel a place (late inside the course's notice period) or leave the waiting list.

    `leaving_waiting_list`: the person asked to leave the waiting list, so a place that came up for
    them before the lock was taken is kept, not cancelled.
    """
    session = _lock_session(booking.session_id)
    booking = _refresh(booking)
    is_admin = actor.has_role(ADMIN)
    if actor.id != booking.user_id and not is_admin:
        raise BookingError("You can only cancel your own booking.")
    if leaving_waiting_list and booking.status in HOLDS_PLACE:
        raise BookingError("A place came up for you just before you left the waiting list, so you now have a "
                           "place on this session and we have e-mailed you about it. If you cannot go, cancel "
                           "the booking.")
    if booking.status not in ACTIVE_STATES:
        raise BookingError(f"This booking cannot be cancelled: it is {STATE_LABELS[booking.status].lower()}.")
    if session.starts_at is not None and session.starts_at <= utcnow():
        raise BookingError("This session has already started, so the booking can no longer be cancelled. "
                           "Contact the L&D team.")
    held_place = booking.status in HOLDS_PLACE
    invited = booking.status == CONFIRMED  # a place held for the manager was never in their calendar
    awaiting_manager = booking.status == AWAITING_APPROVAL
    late = booking.status == CONFIRMED and is_late_cancellation(session)
    booking.cancelled_at = utcnow()
    booking.late_cancellation = late
    booking.cancellation_reason = reason.strip()
    who = "Cancelled" if actor.id == booking.user_id else "Cancelled by the L&D team"
    if booking.status == WAITING:
        who = "Left the waiting list" if actor.id == booking.user_id else "Taken off the waiting list by the L&D team"
    note = who + (" inside the notice period (late cancellation)" if late else "")
    if reason.strip():
        note += f": {reason.strip()}"
    event = change_status(booking, CANCELLED, actor, note)
    notify.notify_cancelled(booking, held_place, event, invited=invited)
    if awaiting_manager and booking.manager_email:
        notify.notify_manager_request_withdrawn(booking, event, by_person=actor.id == booking.user_id)
    if held_place:
        promote_from_waiting_list(session)
    return booking


# ---------------------------------------------------------------- sending a colleague


def substitute_colleague(booking: Booking, colleague: User | None, actor: User) -> Booking:
    """Pass a place to a colleague from the same agency instead: free, and the place moves with it."""
    session = _lock_session(booking.session_id)
    booking = _refresh(booking)
    if actor.id != booking.user_id and not actor.has_role(ADMIN):
        raise BookingError("You can only pass on your own place.")
    original = booking.user
    # Someone outside the agency gets the same answer as an unknown address: this page must not
    # tell anyone who has an account, or name the person behind an address.
    if colleague is None or original.agency_id is None or colleague.agency_id != original.agency_id:
        agency = original.agency.name if original.agency else "your agency"
        raise BookingError(f"We cannot find an account with that e-mail address at {agency}. You can "
                           "only pass your place to a colleague from the same agency; if they have no "
                           "account, ask them to register first.", "email")
    if booking.status == WAITING:
        raise BookingError("You are on the waiting list, so there is no place to pass on yet.")
    if booking.status not in HOLDS_PLACE:
        raise BookingError("Only a booked place can be passed to a colleague.")
    if colleague.id == booking.user_id:
        raise BookingError("Enter your colleague’s e-mail address, not your own.", "email")
    lock_rows(User, [original.id, colleague.id])
    problem = eligibility_problem(session, colleague, ignore_window=True, allow_waiting_here=True,
                                  needs_manager=booking.status == AWAITING_APPROVAL, you=False)
    if problem:
        raise BookingError(problem, "email")
    status, reservation_id, overbooked = booking.status, booking.reservation_id, booking.overbooked
    change_status(booking, TRANSFERRED, actor, f"Place passed to {colleague.name}")
    booking.cancelled_at = utcnow()
    booking.late_cancellation = False
    db.session.flush()
    new, event = _write_booking(session, colleague, status, actor, f"Place passed on by {original.name}",
                         reservation_id=reservation_id, overbooked=overbooked)
    if status == AWAITING_APPROVAL:
        _request_approval(new, session)
        notify.notify_manager_asked(new, event, substitute_for=original)
    notify.notify_substituted(booking, new, event)
    return new


# ---------------------------------------------------------------- the L&D team's changes


def move_booking(booking: Booking, to_session: Session, actor: User, *, overbook: bool = False) -> Booking:
    """Move a person's booking to another session of the same course (L&D team)."""
    if to_session.id == booking.session_id:
        raise BookingError("Choose a different session to move them to.", "session_id")
    locked = {s.id: s for s in lock_rows(Session, [booking.session_id, to_session.id])}
    old_session, to_session = locked[booking.session_id], locked[to_session.id]
    booking = _refresh(booking)
    person = booking.user
    if booking.status not in ACTIVE_STATES:
        raise BookingError(f"This booking is {STATE_LABELS[booking.status].lower()}, so it cannot be moved.")
    if to_session.course_id != old_session.course_id:
        raise BookingError("A booking can only move to another session of the same course.", "session_id")
    if to_session.status != PUBLISHED or to_session.starts_at is None or to_session.starts_at <= utcnow():
        raise BookingError("That session is not open: it is cancelled, not published or has started.",
                           "session_id")
    existing = _booking_for(to_session.id, person.id)
    if existing is not None and existing.status in ACTIVE_STATES:
        raise BookingError(f"{person.name} already has a booking on that session.", "session_id")
    availability = availability_for([to_session])[to_session.id]
    has_place, reservation_id = availability.place_for(booking.agency_id, _sector_id(booking.agency))
    overbooked = False
    if not has_place:
        if not overbook:
            raise BookingError("The new session has no place for them. Tick ‘overbook’ to move them anyway.",
                               "overbook")
        reservation_id, overbooked = None, True
    held_place = booking.status in HOLDS_PLACE
    invited = booking.status == CONFIRMED
    if booking.status == WAITING:
        status = AWAITING_APPROVAL if to_session.course.requires_manager_approval else CONFIRMED
    else:
        status = booking.status
    booking.cancelled_at = utcnow()
    change_status(booking, CANCELLED, actor, f"Moved to the session on {format_datetime(to_session.starts_at)}")
    db.session.flush()
    new, event = _write_booking(
        to_session, person, status, actor,
        f"Moved from the session on {format_datetime(old_session.starts_at)}"
        + (", over capacity (overbooked)" if overbooked else ""),
        reservation_id=reservation_id, overbooked=overbooked, access_needs=booking.access_needs,
    )
    new.agency_id = booking.agency_id
    if status == AWAITING_APPROVAL:
        _request_approval(new, to_session)
        notify.notify_manager_asked(new, event)
    elif booking.approved_at:
        new.approved_at = booking.approved_at
    notify.notify_moved(booking, new, invited, event)
    if held_place:
        promote_from_waiting_list(old_session)
    return new


def cancel_session_bookings(session: Session, actor: User | None) -> int:
    """Cancel every booking and waiting place on a cancelled session, without charge, telling each person."""
    session = _lock_session(session.id)
    if session.status != SESSION_CANCELLED:
        raise BookingError("Cancel the session itself first; then its bookings can be cancelled.")
    count = 0
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.session_id == session.id, Booking.status.in_(ACTIVE_STATES))
        .order_by(Booking.id)
        .execution_options(populate_existing=True)
    ).all()
    for booking in bookings:
        held_place = booking.status in HOLDS_PLACE
        invited = booking.status == CONFIRMED
        booking.cancelled_at = utcnow()
        booking.late_cancellation = False
        note = "Session cancelled" + (f": {session.cancellation_reason}" if session.cancellation_reason else "")
        change_status(booking, CANCELLED, actor, note)
        notify.notify_session_cancelled(booking, held_place, invited=invited)
        count += 1
    _mark_changes_notified(session)
    return count


def _pending_changes(session: Session) -> list[SessionChange]:
    return list(
        db.session.scalars(
            select(SessionChange)
            .where(SessionChange.session_id == session.id, SessionChange.notified_at.is_(None))
            .order_by(SessionChange.id)
            .execution_options(populate_existing=True)
        )
    )


def _mark_changes_notified(session: Session) -> None:
    now = utcnow()
    for change in _pending_changes(session):
        change.notified_at = now


def apply_session_changes(session: Session) -> int:
    """Tell everyone booked about a session's pending changes; cancel their bookings if it was cancelled."""
    session = _lock_session(session.id)
    if session.status == SESSION_CANCELLED:
        return cancel_session_bookings(session, None)
    changes = _pending_changes(session)
    if not changes:
        return 0
    bookings = db.session.scalars(
        select(Booking)
        .where(Booking.session_id == session.id, Booking.status.in_(ACTIVE_STATES))
        .order_by(Booking.id)
    ).all()
    for booking in bookings:
        notify.notify_session_changed(booking, changes)
    _mark_changes_notified(session)
    return len(bookings)


def notify_session_changes() -> int:
    """Tell people about every session change not yet told (commits per session)."""
    session_ids = db.session.scalars(
        select(SessionChange.session_id)
        .where(SessionChange.notified_at.is_(None))
        .group_by(SessionChange.session_id)
        .order_by(SessionChange.session_id)
    ).all()
    told = 0
    for session_id in session_ids:
        told += apply_session_changes(db.session.get(Session, session_id))
        db.session.commit()
    return told


# ---------------------------------------------------------------- the line manager


def _cancelled_by_person(booking: Booking) -> bool:
    cancelled = [e for e in booking.events if e.to_status == CANCELLED]
    return bool(cancelled) and cancelled[-1].actor_id == booking.user_id


def approval_problem(booking: Booking) -> str | None:
    """Why a manager can no longer answer for this booking, or None."""
    name = booking.user.name
    if booking.status == CONFIRMED:
        return f"You have already agreed: {name}’s place is confirmed."
    if booking.status == DECLINED:
        return f"You have already declined {name}’s booking."
    if booking.status == LAPSED:
        return (f"This request lapsed on {format_date(booking.approval_due_at)} because it was not answered "
                f"within {APPROVAL_WORKING_DAYS} working days. {name} can book again if a place is free.")
    if booking.status == CANCELLED and booking.session.status == SESSION_CANCELLED:
        return "This session has been cancelled, so you do not need to answer."
    if booking.status == CANCELLED:
        who = (f"{name} cancelled this place" if _cancelled_by_person(booking)
               else f"The L&D team cancelled {name}’s place")
        return f"{who} on {format_date(booking.cancelled_at)}, so you do not need to answer."
    if booking.status == TRANSFERRED:
        return f"{name} passed this place to a colleague, so you do not need to answer."
    if booking.status != AWAITING_APPROVAL:
        return f"{name} no longer has this place, so you do not need to answer."
    if booking.session.starts_at is not None and booking.session.starts_at <= utcnow():
        return "The session has started, so it is too late to answer."
    return None


def answer_approval(booking: Booking, decision: str, reason: str = "") -> Booking:
    """Record the line manager's answer: agree confirms the place, decline frees it.

    The request the caller read (the one the manager's link is for) must still be the current one
    once the session is locked: a new manager may have been asked meanwhile.
    """
    requested = booking.approval_requested_at
    session = _lock_session(booking.session_id)
    booking = _refresh(booking)
    problem = approval_problem(booking)
    if problem:
        raise BookingError(problem)
    if booking.approval_requested_at != requested:
        raise BookingError("This link is for an earlier request that no longer applies: "
                           "the person's line manager has changed.")
    manager = booking.manager_email or "the line manager"
    if decision == AGREE:
        booking.approved_at = booking.confirmed_at = utcnow()
        event = change_status(booking, CONFIRMED, None, f"Line manager ({manager}) agreed")
        notify.notify_manager_agreed(booking, event)
        return booking
    note = f"Line manager ({manager}) declined" + (f": {reason.strip()}" if reason.strip() else "")
    booking.cancellation_reason = reason.strip()
    event = change_status(booking, DECLINED, None, note)
    notify.notify_manager_declined(booking, reason.strip(), event)
    promote_from_waiting_list(session)
    return booking


def lapse_approval(booking: Booking) -> bool:
    """Free a place whose manager did not answer in time; False if it was answered meanwhile."""
    session = _lock_session(booking.session_id)
    booking = _refresh(booking)
    if booking.status != AWAITING_APPROVAL or booking.approval_due_at is None or booking.approval_due_at > utcnow():
        return False
    event = change_status(booking, LAPSED, None,
                          f"Line manager did not answer within {APPROVAL_WORKING_DAYS} working days")
    booking.cancelled_at = utcnow()
    notify.notify_approval_lapsed(booking, event)
    promote_from_waiting_list(session)
    return True


def lapse_unanswered_approvals() -> int:
    """Lapse every approval request past its due time (commits per booking)."""
    due = db.session.scalars(
        select(Booking)
        .where(Booking.status == AWAITING_APPROVAL, Booking.approval_due_at <= utcnow())
        .order_by(Booking.approval_due_at, Booking.id)
    ).all()
    count = 0
    for booking in due:
        count += lapse_approval(booking)
        db.session.commit()
    return count


@on_manager_changed
def reassign_pending_approvals(person: User, actor: User | None) -> list[Booking]:
    """Ask the person's new line manager to agree every place still waiting for the old one.

    Each request starts again: new links (the old manager's stop working, because a link names
    the moment it was asked) and a new due date, 5 working days from now, as a first request has.
    """
    waiting = db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.user_id == person.id, Booking.status == AWAITING_APPROVAL,
               Booking.manager_email != (person.line_manager_email or ""),
               Session.starts_at > utcnow())
        .order_by(Booking.id)
    ).all()
    moved = []
    for booking in waiting:
        session = _lock_session(booking.session_id)
        booking = _refresh(booking)
        if booking.status != AWAITING_APPROVAL or not person.line_manager_email:
            continue
        asked_before = booking.approval_requested_at
        booking.manager_email = person.line_manager_email
        _request_approval(booking, session)
        if asked_before is not None and booking.approval_requested_at <= asked_before:
            # The links name this moment: it must differ from the old request's for them to stop.
            booking.approval_requested_at = asked_before + timedelta(microseconds=1)
        event = change_status(booking, AWAITING_APPROVAL, actor,
                              "Line manager changed: the new line manager was asked to agree")
        notify.notify_manager_asked(booking, event)
        moved.append(booking)
    return moved


# ---------------------------------------------------------------- reminders


REMINDER_DAYS = (7, 1)


def send_reminders() -> int:
    """Queue the 7-day and 1-day reminders for confirmed places (each once per start time)."""
    now = utcnow()
    rows = db.session.execute(
        select(Booking, Session)
        .join(Session, Booking.session_id == Session.id)
        .where(
            Booking.status == CONFIRMED,
            Session.status == PUBLISHED,
            Session.starts_at > now,
            Session.starts_at <= now + timedelta(days=max(REMINDER_DAYS)),
        )
        .order_by(Session.starts_at, Booking.id)
    ).all()
    queued = 0
    for booking, session in rows:
        left = session.starts_at - now
        # The nearest reminder due; the 7-day one is skipped when the 1-day one is already due.
        days = min(d for d in REMINDER_DAYS if left <= timedelta(days=d))
        mark = session.starts_at - timedelta(days=days)
        if booking.confirmed_at is not None and booking.confirmed_at > mark:
            continue  # confirmed after the reminder point: their confirmation has just told them
        if notify.notify_reminder(booking, days):
            queued += 1
    return queued


# ---------------------------------------------------------------- completions and calendar


def _check_completed_on(completed_on: date | None) -> None:
    """A completion date is given, in the past, and after 2000."""
    if completed_on is None:
        raise BookingError("Enter the date you completed it, for example 27 3 2027.", "completed_on")
    if completed_on > today_london():
        raise BookingError("The date you completed it must be today or in the past.", "completed_on")
    if completed_on < date(2000, 1, 1):
        raise BookingError("Enter a date after 1 January 2000.", "completed_on")


def _refuse_duplicate_completion(person: User, course: Course, completed_on: date) -> None:
    duplicate = db.session.scalar(
        select(Completion.id).where(
            Completion.user_id == person.id, Completion.course_id == course.id,
            Completion.completed_on == completed_on,
        )
    )
    if duplicate:
        raise BookingError("You have already recorded this course on that date.", "completed_on")


def record_completion(person: User, course: Course | None, completed_on: date | None,
                      evidence: str, actor: User) -> Completion:
    """Record that a person completed an online course on a date (the L&D team may check it)."""
    if course is None or not course.is_online:
        raise BookingError("Choose the online course you completed.", "course_id")
    _check_completed_on(completed_on)
    _refuse_duplicate_completion(person, course, completed_on)
    completion = Completion(user_id=person.id, course_id=course.id, completed_on=completed_on,
                            source=SELF_RECORDED, evidence=evidence.strip()[:2000], created_at=utcnow())
    db.session.add(completion)
    db.session.flush()
    return completion


def check_completion(completion: Completion, actor: User) -> None:
    """Mark a self-recorded completion as checked by the L&D team."""
    if completion.source == PRIOR_LEARNING:
        raise BookingError("Accept or reject learning done elsewhere: it counts only once accepted.")
    if completion.checked_at is not None:
        raise BookingError("This completion has already been checked.")
    completion.checked_by_id = actor.id
    completion.checked_at = utcnow()


def certificate_type(data: bytes) -> tuple[str, str] | None:
    """The (content type, file extension) of a PDF, PNG or JPEG file; None for anything else."""
    for magic, content_type, extension in CERTIFICATE_TYPES:
        if data.startswith(magic):
            return content_type, extension
    return None


def record_prior_learning(person: User, course: Course | None, provider: str, completed_on: date | None,
                          evidence: str, actor: User, *, certificate: tuple[str, bytes] | None = None
                          ) -> Completion:
    """Record learning done elsewhere as equivalent to a course here, for the L&D team to check.

    `certificate` is (file name, contents): a PDF, PNG or JPEG of at most 5 MB.
    """
    if course is None:
        raise BookingError("Choose the course here that your learning is equivalent to.", "course_id")
    if not provider.strip():
        raise BookingError("Enter who provided the training, for example your own agency.", "provider")
    _check_completed_on(completed_on)
    if not evidence.strip():
        raise BookingError("Describe the training and your evidence, for example the course title and "
                           "certificate number.", "evidence")
    name, content_type, data = "", "", None
    if certificate is not None and certificate[1]:
        name, data = certificate
        if len(data) > CERTIFICATE_MAX_BYTES:
            raise BookingError("The certificate must be 5 MB or smaller.", "certificate")
        found = certificate_type(data)
        if found is None:
            raise BookingError("The certificate must be a PDF, PNG or JPEG file.", "certificate")
        content_type, extension = found
        # A stored name is shown back and used in a download header: keep it plain.
        stem = "".join(ch for ch in name.rsplit(".", 1)[0] if ch.isalnum() or ch in " -_")[:100].strip()
        name = (stem or "certificate") + extension
    _refuse_duplicate_completion(person, course, completed_on)
    completion = Completion(
        user_id=person.id, course_id=course.id, completed_on=completed_on, source=PRIOR_LEARNING,
        provider=provider.strip()[:200], evidence=evidence.strip()[:2000], certificate_name=name,
        certificate_type=content_type, certificate_data=data, created_at=utcnow(),
    )
    db.session.add(completion)
    db.session.flush()
    return completion


def decide_prior_learning(completion: Completion, accept: bool, note: str, actor: User) -> None:
    """Accept or reject learning done elsewhere (L&D team) and tell the person."""
    if completion.source != PRIOR_LEARNING:
        raise BookingError("Only learning done elsewhere is accepted or rejected.")
    if completion.check_result is not None:
        raise BookingError("This has already been checked.")
    if not accept and not note.strip():
        raise BookingError("Say why it is not accepted: we tell the person.", "note")
    completion.check_result = ACCEPTED if accept else REJECTED
    completion.check_note = note.strip()[:2000]
    completion.checked_by_id = actor.id
    completion.checked_at = utcnow()
    db.session.flush()
    notify.notify_prior_learning_checked(completion)


def reset_calendar_token(person: User) -> None:
    """Give the person a new secret calendar address; the old one stops working."""
    person.calendar_token = secrets.token_urlsafe(32)


def calendar_entries(person: User) -> list[FeedEntry]:
    """The sessions in a person's calendar feed: the joining link for confirmed places only, and a
    place awaiting the line manager as tentative."""
    bookings = db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.user_id == person.id, Session.status != "draft")
        .where(
            Booking.status.in_(HOLDS_PLACE)
            | ((Booking.status == CANCELLED) & (Session.status == SESSION_CANCELLED))
        )
        .order_by(Session.starts_at)
    ).all()
    return [FeedEntry(b.session, joining_link=b.status == CONFIRMED and b.session.status == PUBLISHED,
                      tentative=b.status == AWAITING_APPROVAL) for b in bookings]


def bookings_for(person: User) -> tuple[list[Booking], list[Booking]]:
    """A person's bookings: (upcoming, past), soonest first and latest first."""
    now = utcnow()
    bookings = db.session.scalars(
        select(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(Booking.user_id == person.id)
        .order_by(Session.starts_at)
    ).all()
    upcoming = [b for b in bookings if b.session.starts_at and b.session.starts_at > now]
    past = [b for b in bookings if not (b.session.starts_at and b.session.starts_at > now)]
    return upcoming, list(reversed(past))


def can_change(booking: Booking) -> bool:
    """True when the person may still cancel or pass on this booking."""
    starts_at = booking.session.starts_at
    return booking.status in ACTIVE_STATES and starts_at is not None and starts_at > utcnow()


def sessions_for_moving(booking: Booking) -> list[Session]:
    """Other open sessions of the same course a booking could move to."""
    return list(
        db.session.scalars(
            select(Session)
            .where(
                Session.course_id == booking.session.course_id,
                Session.id != booking.session_id,
                Session.status == PUBLISHED,
                Session.starts_at > utcnow(),
            )
            .order_by(Session.starts_at)
        )
    )


def bookings_on(session: Session, states: Iterable[str]) -> list[Booking]:
    """A session's bookings in the given states, in the order they were made."""
    return list(
        db.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.id, Booking.status.in_(tuple(states)))
            .order_by(Booking.waiting_since, Booking.created_at, Booking.id)
        )
    )


def find_person(email: str) -> User | None:
    """The account with this e-mail address, ignoring case and spaces."""
    return find_user_by_email(email) if email and email.strip() else None

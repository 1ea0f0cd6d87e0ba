"""The rules of registers and attendance: who may mark, when, and what each outcome sets off.

An outcome goes through app.bookings.history (so it is in the booking's history), then:
- attended (or partly attended that an administrator counts as complete) makes a Completion,
  which completes the course for prerequisites and starts the refresher clock;
- did not attend and turned away raise a Charge to the booking's agency (the course's charge per
  session) and may suspend booking after repeated no-shows;
- a correction back to attended voids the charge and removes nothing else from history.
"""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.accounts.models import ACTIVE, ADMIN, PENDING_APPROVAL, Agency, User, find_user_by_email
from app.accounts.services import (
    AccountError,
    check_not_generic,
    email_matches_agency,
    normalise_email,
    record_event,
)
from app.attendance.models import (
    CHARGE_DID_NOT_ATTEND,
    CHARGE_DUE,
    CHARGE_LATE_CANCELLATION,
    CHARGE_TURNED_AWAY,
    CHARGE_VOID,
    CHARGE_WAIVED,
    Charge,
    Suspension,
)
from app.attendance.certificates import issue_certificate
from app.bookings.eligibility import BookingRequest, eligibility_check
from app.bookings.history import change_status, set_outcome
from app.bookings.models import (
    ATTENDED,
    CANCELLED,
    CONFIRMED,
    DID_NOT_ATTEND,
    OUTCOME_LABELS,
    PARTLY_ATTENDED,
    TURNED_AWAY,
    Booking,
    BookingEvent,
    Completion,
)
from app.clock import add_months, london_to_utc, to_london, today_london, utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import Course, Session
from app.errors import DomainError
from app.extensions import db
from app.locking import lock_rows
from app.templating import format_date

NO_SHOW_OUTCOMES = (DID_NOT_ATTEND, TURNED_AWAY)
CHARGE_FOR_OUTCOME = {DID_NOT_ATTEND: CHARGE_DID_NOT_ATTEND, TURNED_AWAY: CHARGE_TURNED_AWAY}
ATTENDANCE_SOURCE = "attendance"
# The walk-in search shows a handful of people to a trainer, never the whole directory.
SEARCH_MIN_CHARACTERS = 3
SEARCH_MAX_PEOPLE = 10


class AttendanceError(DomainError):
    """A refusal a person can read; `field` names the form field it belongs to, if any."""


# ---------------------------------------------------------------- dates


def session_days(session: Session) -> list[date]:
    """Return the UK dates of a session's parts, in order."""
    if session.parts:
        return sorted({to_london(p.starts_at).date() for p in session.parts})
    return [to_london(session.starts_at).date()] if session.starts_at else []


def first_day(session: Session) -> date | None:
    if session.parts:
        return to_london(min(p.starts_at for p in session.parts)).date()
    return to_london(session.starts_at).date() if session.starts_at else None


def last_day(session: Session) -> date | None:
    if session.parts:
        return to_london(max(p.ends_at for p in session.parts)).date()
    end = session.ends_at or session.starts_at
    return to_london(end).date() if end else None


def day_start_utc(day: date) -> datetime:
    """Return the naive-UTC moment a UK date begins."""
    return london_to_utc(datetime.combine(day, time.min))


def marking_window(session: Session) -> tuple[date | None, date | None]:
    """Return the first and last UK dates on which trainers may mark the register."""
    start, end = first_day(session), last_day(session)
    if start is None or end is None:
        return None, None
    return start, end + timedelta(days=current_app.config["ATTENDANCE_MARKING_DAYS"])


# ---------------------------------------------------------------- who may do what


def is_session_trainer(session: Session, person: User) -> bool:
    return any(t.id == person.id for t in session.trainers)


def can_view_register(session: Session, person: User) -> bool:
    """Trainers see their own sessions' registers; administrators see every one."""
    return person.has_role(ADMIN) or is_session_trainer(session, person)


def marking_refusal(session: Session, actor: User) -> str | None:
    """Say why `actor` may not mark the register today, or None when they may."""
    if not can_view_register(session, actor):
        return "Only this session’s trainers and the L&D team can mark its register."
    if session.status == SESSION_CANCELLED:
        return "This session was cancelled, so there is no register to mark."
    opens, closes = marking_window(session)
    if opens is None:
        return "This session has no dates yet."
    today = today_london()
    if today < opens:
        return (f"The register can be marked from {opens:%-d %B %Y}, the first day of the session. "
                "You can download it now.")
    if today > closes:
        if actor.has_role(ADMIN):
            return (f"Marking closed on {closes:%-d %B %Y}. Correct a booking from its "
                    "attendance page, giving a reason.")
        return (f"Marking closed on {closes:%-d %B %Y}. Ask the L&D team to correct the register "
                "if something is wrong.")
    return None


def check_can_mark(session: Session, actor: User) -> None:
    """Refuse marking outside the window or by someone who is not the session's trainer or an administrator."""
    refusal = marking_refusal(session, actor)
    if refusal:
        raise AttendanceError(refusal)


# ---------------------------------------------------------------- the register


def surname(name: str) -> str:
    parts = name.strip().split()
    return parts[-1] if parts else ""


def sort_text(text: str) -> str:
    """Text for sorting as people expect: accents and case ignored (Ábrahams before Young)."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def booking_agency(booking: Booking) -> Agency | None:
    """The agency the booking was made for (the person's agency when it was made)."""
    return booking.agency or booking.user.agency


def register_sort_key(booking: Booking) -> tuple:
    # Trainers look people up by surname (the last word of the name), then first name.
    name = booking.user.name
    first = name.split()[0] if name.split() else ""
    return (sort_text(surname(name)), sort_text(first), sort_text(name), booking.id or 0)


def register_bookings(session: Session) -> list[Booking]:
    """Return the people on a session's register (confirmed places), by surname then first name."""
    bookings = db.session.scalars(
        select(Booking).where(Booking.session_id == session.id, Booking.status == CONFIRMED)
    ).all()
    return sorted(bookings, key=register_sort_key)


def completion_for(booking: Booking) -> Completion | None:
    if booking.id is None:
        return None
    return db.session.scalar(select(Completion).where(Completion.booking_id == booking.id))


def counts_as_complete(booking: Booking) -> bool:
    """True when the booking's attendance completed the course (it has a Completion)."""
    return completion_for(booking) is not None


def record_outcome(
    booking: Booking,
    outcome: str | None,
    actor: User | None,
    reason: str = "",
    counts_as_complete: bool | None = None,
) -> bool:
    """Set a booking's outcome (through its history) and what it sets off; return True if anything changed.

    Partly attended completes the course only when `counts_as_complete` is True (an
    administrator's decision); None keeps the current decision.
    """
    if outcome is not None and outcome not in OUTCOME_LABELS:
        raise AttendanceError("Choose attended, partly attended, did not attend or turned away")
    previous = booking.outcome
    completion = completion_for(booking)
    if outcome == ATTENDED:
        complete = True
    elif outcome == PARTLY_ATTENDED:
        complete = (completion is not None) if counts_as_complete is None else counts_as_complete
    else:
        complete = False
    changed = previous != outcome
    set_outcome(booking, outcome, actor, reason)
    if (
        not changed
        and outcome == PARTLY_ATTENDED
        and complete != (completion is not None)
    ):
        # Not an outcome change, but a decision people will ask about: keep it in the history.
        db.session.add(BookingEvent(
            booking=booking, actor_id=actor.id if actor else None, at=utcnow(),
            from_status=booking.status, to_status=booking.status,
            from_outcome=outcome, to_outcome=outcome,
            reason=("Counted as complete. " if complete else "No longer counted as complete. ") + reason,
        ))
        changed = True
    _sync_completion(booking, completion, complete)
    if outcome in NO_SHOW_OUTCOMES:
        _raise_charge(booking, CHARGE_FOR_OUTCOME[outcome])
        if previous not in NO_SHOW_OUTCOMES:
            db.session.flush()
            suspend_if_repeated_no_shows(booking.user)
    else:
        _void_charge(booking)
        if previous in NO_SHOW_OUTCOMES:
            db.session.flush()
            _review_suspension(booking.user, actor)
    return changed


def _sync_completion(booking: Booking, completion: Completion | None, complete: bool) -> None:
    if complete and completion is None:
        db.session.add(Completion(
            user_id=booking.user_id, course_id=booking.session.course_id,
            completed_on=last_day(booking.session) or today_london(), source=ATTENDANCE_SOURCE,
            booking_id=booking.id, created_at=utcnow(),
        ))
        # The certificate's code is made now, so downloading it later only reads.
        issue_certificate(booking)
    elif not complete and completion is not None:
        db.session.delete(completion)


def _lock_register(session: Session) -> None:
    """Serialise changes to one register (PostgreSQL: lock the session row), so two people
    marking at once cannot raise the same charge or completion twice."""
    lock_rows(Session, [session.id])


def mark_register(session: Session, marks: dict[int, str], actor: User) -> int:
    """Mark a session's register all at once (nothing is saved if any mark is wrong); return how many changed."""
    check_can_mark(session, actor)
    _lock_register(session)
    on_register = {b.id: b for b in register_bookings(session)}
    for booking_id, outcome in marks.items():
        if booking_id not in on_register:
            raise AttendanceError("Someone on the form is no longer on this register. Reload the page.")
        if outcome not in OUTCOME_LABELS:
            raise AttendanceError(
                f"Choose what happened for {on_register[booking_id].user.name}", f"outcome-{booking_id}"
            )
    changed = 0
    for booking_id, outcome in marks.items():
        if record_outcome(on_register[booking_id], outcome, actor, "Marked on the register"):
            changed += 1
    return changed


def mark_all_attended(session: Session, actor: User) -> int:
    """Mark everyone on the register not yet marked as attended; return how many."""
    check_can_mark(session, actor)
    _lock_register(session)
    count = 0
    for booking in register_bookings(session):
        if booking.outcome is None:
            record_outcome(booking, ATTENDED, actor, "Marked on the register: all attended")
            count += 1
    return count


def correct_outcome(
    booking: Booking, outcome: str | None, actor: User, reason: str, counts_as_complete: bool = False
) -> bool:
    """Correct a booking's outcome at any time after the session began (administrators, with a reason)."""
    if not actor.has_role(ADMIN):
        raise AttendanceError("Only the L&D team can correct a register.")
    if booking.status != CONFIRMED:
        raise AttendanceError("Only a confirmed place on the register has an attendance outcome.")
    opens, _closes = marking_window(booking.session)
    if opens is None or today_london() < opens:
        raise AttendanceError("The session has not started yet, so there is nothing to correct.")
    if not reason.strip():
        raise AttendanceError("Say why you are correcting the register", "reason")
    if outcome is not None and outcome not in OUTCOME_LABELS:
        raise AttendanceError("Choose what happened", "outcome")
    _lock_register(booking.session)
    return record_outcome(booking, outcome, actor, "Correction: " + reason.strip(),
                          counts_as_complete=counts_as_complete)


# ---------------------------------------------------------------- walk-ins


def add_walk_in(session: Session, person: User, actor: User) -> Booking:
    """Put someone who came without a confirmed place on the register, as attended."""
    check_can_mark(session, actor)
    _lock_register(session)
    if person.status != ACTIVE and person.status != PENDING_APPROVAL:
        raise AttendanceError(f"{person.name}’s account is closed. Ask the L&D team to reopen it.")
    booking = db.session.scalar(
        select(Booking).where(Booking.session_id == session.id, Booking.user_id == person.id)
    )
    if booking is not None and booking.status == CONFIRMED:
        raise AttendanceError(f"{person.name} is already on the register.")
    return _put_on_register_as_walk_in(session, person, booking, actor)


def _put_on_register_as_walk_in(session: Session, person: User, booking: Booking | None,
                                actor: User) -> Booking:
    reason = f"Walk-in on the day, added by {actor.name}"
    if booking is None:
        booking = Booking(session=session, user=person, agency_id=person.agency_id,
                          booked_by_id=actor.id, created_at=utcnow())
    booking.walk_in = True
    booking.late_cancellation = False
    change_status(booking, CONFIRMED, actor, reason)
    db.session.add(booking)
    db.session.flush()
    record_outcome(booking, ATTENDED, actor, reason)
    return booking


def register_walk_in(
    session: Session, actor: User, *, name: str, email: str, job_title: str, agency: Agency | None
) -> Booking:
    """Create an account for a walk-in who has none (checked as registration checks it) and add them."""
    check_can_mark(session, actor)
    if not (name or "").strip():
        raise AttendanceError("Enter the person’s full name", "name")
    try:
        address = normalise_email(email or "")
        check_not_generic(address)
    except AccountError as exc:
        raise AttendanceError(exc.message, "email") from exc
    if find_user_by_email(address):
        raise AttendanceError(
            "An account already uses this e-mail address. Search for the person instead.", "email"
        )
    if not (job_title or "").strip():
        raise AttendanceError("Enter the person’s job title", "job_title")
    if agency is None or not agency.active:
        raise AttendanceError("Select the agency the person works for", "agency_id")
    person = User(
        name=name.strip(), email=address, job_title=job_title.strip(), agency=agency,
        # Same rule as registration: an address outside the agency's domains waits for approval.
        status=ACTIVE if email_matches_agency(address, agency) else PENDING_APPROVAL,
        created_at=utcnow(),
    )
    db.session.add(person)
    db.session.flush()
    days = session_days(session)
    record_event(person, actor, "registered",
                 f"Walk-in at {session.course.title}" + (f" on {days[0]:%-d %B %Y}" if days else ""))
    return add_walk_in(session, person, actor)


def find_people(query: str) -> list[User]:
    """Find up to ten people by part of their name or e-mail address, for adding a walk-in.

    A trainer may search, but not list the directory: at least three characters, at most ten
    people.
    """
    text = (query or "").strip().lower()
    if len(text) < SEARCH_MIN_CHARACTERS:
        return []
    return list(db.session.scalars(
        select(User)
        .where(func.lower(User.name).contains(text, autoescape=True)
               | func.lower(User.email).contains(text, autoescape=True))
        .where(User.status.in_((ACTIVE, PENDING_APPROVAL)))
        .order_by(User.name, User.id)
        .limit(SEARCH_MAX_PEOPLE)
    ))


# ---------------------------------------------------------------- charges


def charge_for(booking: Booking) -> Charge | None:
    if booking.id is None:
        return None
    return db.session.scalar(select(Charge).where(Charge.booking_id == booking.id))


def _raise_charge(booking: Booking, reason: str) -> Charge | None:
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


def _void_charge(booking: Booking) -> None:
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
    return _raise_charge(booking, CHARGE_LATE_CANCELLATION)


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


# ---------------------------------------------------------------- suspensions


def active_suspension(user: User, on: date | None = None) -> Suspension | None:
    """Return the suspension that stops this person booking today, if there is one."""
    day = on or today_london()
    return db.session.scalar(
        select(Suspension)
        .where(
            Suspension.user_id == user.id,
            Suspension.lifted_at.is_(None),
            Suspension.starts_on <= day,
            Suspension.until > day,
        )
        .order_by(Suspension.until.desc())
        .limit(1)
    )


@eligibility_check(85)  # after prerequisites, before the line manager: the order bookings always asked
def not_suspended(request: BookingRequest) -> str | None:
    """Refuse a booking while the person is suspended after sessions missed without notice."""
    suspension = active_suspension(request.person)
    if suspension is None:
        return None
    who = request.says("Your booking is", f"{request.name}’s booking is")
    return (f"{who} suspended until {format_date(suspension.until)} after sessions were missed without "
            "notice. Contact the L&D team if you think this is wrong.")


def no_show_days(user: User, after: date | None, since: date, until: date | None = None) -> list[tuple[date, Booking]]:
    """Return the person's no-shows (UK session date, booking) from `since`, later than `after`."""
    bookings = db.session.scalars(
        select(Booking)
        .join(Session, Session.id == Booking.session_id)
        .where(
            Booking.user_id == user.id,
            Booking.outcome.in_(NO_SHOW_OUTCOMES),
            Session.starts_at >= day_start_utc(since) - timedelta(days=1),
        )
    ).all()
    found = []
    for booking in bookings:
        day = first_day(booking.session)
        if day is None or day < since or (after is not None and day <= after):
            continue
        if until is not None and day > until:
            continue
        found.append((day, booking))
    return sorted(found, key=lambda item: (item[0], item[1].id))


def _counted_up_to(user: User, before: Suspension | None = None) -> date | None:
    """The latest no-show already counted by an earlier suspension (lifted or not)."""
    query = select(func.max(Suspension.last_no_show_on)).where(Suspension.user_id == user.id)
    if before is not None:
        query = query.where(Suspension.id < before.id)
    return db.session.scalar(query)


def suspend_if_repeated_no_shows(user: User) -> Suspension | None:
    """Suspend booking when the person reaches the no-show limit; tell them and their manager."""
    config = current_app.config
    limit = config["NO_SHOW_LIMIT"]
    lock_rows(User, [user.id])  # no-shows on two registers at once must not suspend twice
    if limit <= 0 or active_suspension(user) is not None:
        return None
    today = today_london()
    since = add_months(today, -config["NO_SHOW_WINDOW_MONTHS"])
    found = no_show_days(user, _counted_up_to(user), since)
    if len(found) < limit:
        return None
    listed = "; ".join(f"{b.session.course.title} ({day:%-d %B %Y})" for day, b in found)
    suspension = Suspension(
        user_id=user.id, starts_on=today, until=add_months(today, config["SUSPENSION_MONTHS"]),
        reason=f"{len(found)} no-shows in {config['NO_SHOW_WINDOW_MONTHS']} months: {listed}",
        last_no_show_on=found[-1][0], created_by_id=None, created_at=utcnow(),
    )
    db.session.add(suspension)
    db.session.flush()
    from app.attendance.notifications import notify_suspended

    notify_suspended(suspension, [b for _day, b in found])
    return suspension


def _review_suspension(user: User, actor: User | None) -> None:
    """Lift an automatic suspension if a correction leaves fewer no-shows than the limit."""
    suspension = active_suspension(user)
    if suspension is None or suspension.created_by_id is not None or suspension.last_no_show_on is None:
        return
    since = add_months(suspension.starts_on, -current_app.config["NO_SHOW_WINDOW_MONTHS"])
    found = no_show_days(user, _counted_up_to(user, before=suspension), since,
                         until=suspension.last_no_show_on)
    if len(found) < current_app.config["NO_SHOW_LIMIT"]:
        lift_suspension(suspension, actor, "A no-show it counted was corrected on the register.",
                        check_role=False)


def lift_suspension(
    suspension: Suspension, actor: User | None, reason: str, check_role: bool = True
) -> None:
    """Let the person book again before the suspension ends (administrators, with a reason)."""
    if check_role and (actor is None or not actor.has_role(ADMIN)):
        raise AttendanceError("Only the L&D team can lift a suspension.")
    if suspension.lifted_at is not None:
        raise AttendanceError("This suspension has already been lifted.")
    if not (reason or "").strip():
        raise AttendanceError("Say why the suspension is lifted", "reason")
    suspension.lifted_at = utcnow()
    suspension.lifted_by_id = actor.id if actor else None
    suspension.lift_reason = reason.strip()
    from app.attendance.notifications import notify_suspension_lifted

    notify_suspension_lifted(suspension)


# ---------------------------------------------------------------- refreshers


def refresher_clock(course: Course) -> Course:
    """The course whose refresher clock completing `course` restarts: the course it renews, or itself."""
    return course.renews or course


def refresher_due_on(completion: Completion) -> date | None:
    """When the next refresher is due after this completion (None: no refresher is needed).

    A course that renews another (Level 3 Refresher renews Level 3) follows that course's interval.
    """
    months = refresher_clock(completion.course).refresher_months
    return add_months(completion.completed_on, months) if months else None


def refresher_state(due: date | None, today: date | None = None) -> str:
    """'overdue', 'due soon' or '' for a refresher due date."""
    if due is None:
        return ""
    today = today or today_london()
    if due < today:
        return "overdue"
    if due <= today + timedelta(days=current_app.config["REFRESHER_DUE_SOON_DAYS"]):
        return "due soon"
    return ""

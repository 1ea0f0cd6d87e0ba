"""Suspensions: booking stops for a while after repeated no-shows, until they end or are lifted."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy import func, select

from app.accounts.models import ADMIN, User
from app.attendance.dates import first_day
from app.attendance.errors import AttendanceError
from app.attendance.models import Suspension
from app.attendance.notifications import notify_suspended, notify_suspension_lifted
from app.bookings.eligibility import PERSON_ID, TODAY, BookingRequest, eligibility_check
from app.bookings.models import DID_NOT_ATTEND, TURNED_AWAY, Booking
from app.clock import add_months, day_start_utc, today_london, utcnow
from app.courses.models import Session
from app.extensions import db
from app.locking import lock_rows
from app.templating import format_date


NO_SHOW_OUTCOMES = (DID_NOT_ATTEND, TURNED_AWAY)


def _active(query, user_id, day: date):
    """`query` narrowed to the person's suspensions in force on `day`, the longest first."""
    return (query.where(Suspension.user_id == user_id, Suspension.lifted_at.is_(None),
                        Suspension.starts_on <= day, Suspension.until > day)
            .order_by(Suspension.until.desc()).limit(1))


def active_suspension(user: User, on: date | None = None) -> Suspension | None:
    """Return the suspension that stops this person booking today, if there is one."""
    return db.session.scalar(_active(select(Suspension), user.id, on or today_london()))


# After prerequisites, before the line manager: the order bookings always asked.
@eligibility_check(85, facts={"suspended_until": _active(select(Suspension.until), PERSON_ID, TODAY).scalar_subquery()})
def not_suspended(request: BookingRequest) -> str | None:
    """Refuse a booking while the person is suspended after sessions missed without notice."""
    until = request.facts["suspended_until"]
    if until is None:
        return None
    who = request.says("Your booking is", f"{request.name}’s booking is")
    return (f"{who} suspended until {format_date(until)} after sessions were missed without "
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
    notify_suspended(suspension, [b for _day, b in found])
    return suspension


def review_suspension(user: User, actor: User | None) -> None:
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
    notify_suspension_lifted(suspension)

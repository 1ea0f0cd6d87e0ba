"""The API's reads: each agency resource through the coordinator's own reads where there is one
(app.reports.queries.agency_bookings and agency_refreshers, app.attendance.queries.charges_statement),
so a token sees what its agency's coordinator sees on the agency pages, never more; the rest
(completions, certificates) with the same rule: the agency's current staff, or bookings made for it.

Lists are narrowed by date and "changed since", then paged (app.api.paging).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.accounts.models import ACTIVE, Agency, User
from app.api.models import ApiToken
from app.attendance.models import Certificate, Charge
from app.attendance.queries import charges_statement
from app.bookings.models import Booking, Completion
from app.courses.availability import Places, booking_facts
from app.courses.models import Session
from app.courses.queries import ClosedScope, ProgrammeFilters, load_sessions, upcoming_query, visible_session
from app.extensions import db
from app.filters import Period
from app.inputs import YEAR_MAX, YEAR_MIN
from app.reports.queries import RefresherRow, agency_bookings, agency_refreshers

EVER = Period(date(YEAR_MIN, 1, 1), date(YEAR_MAX, 12, 31))


def period(date_from: date | None, date_to: date | None) -> Period:
    """The days asked for; all days when neither end is given."""
    return Period(date_from or EVER.starts_on, date_to or EVER.ends_on)


def programme(period: Period, changed_since: datetime | None) -> list[Session]:
    """The public programme (published sessions yet to start, as /programme lists them)."""
    query = upcoming_query(ProgrammeFilters()).where(
        Session.starts_at >= period.start_utc, Session.starts_at < period.end_utc)
    if changed_since is not None:
        query = query.where(Session.updated_at >= changed_since)
    return load_sessions(query)


def public_session(session_id: int) -> Session | None:
    """A session anyone may see (published, or cancelled after publishing), as /sessions/<id> shows."""
    return visible_session(session_id, include_drafts=False)


def bookable_session(agency: Agency, session_id: int) -> Session | None:
    """A session the agency's staff may be booked on: a public one, or one closed to this agency."""
    return visible_session(session_id, include_drafts=False, scope=ClosedScope(agency_id=agency.id))


def places(sessions: list[Session]) -> dict[int, Places]:
    return booking_facts().places(sessions)


def bookings(agency: Agency, period: Period, changed_since: datetime | None) -> list[Booking]:
    """The agency's bookings on sessions starting in the period, as its coordinator's page lists them."""
    rows = agency_bookings(agency, period)
    if changed_since is not None:
        rows = [b for b in rows if b.updated_at >= changed_since]
    return rows


def completions(agency: Agency, period: Period, changed_since: datetime | None) -> list[Completion]:
    """Training that counts (courses here, and learning elsewhere once accepted) completed in the
    period by the agency's current staff: the completions its coordinator's refreshers are read from."""
    query = (
        select(Completion)
        .join(User, User.id == Completion.user_id)
        .where(User.agency_id == agency.id, User.status == ACTIVE, Completion.counts,
               Completion.completed_on >= period.starts_on, Completion.completed_on <= period.ends_on)
        .options(joinedload(Completion.user), joinedload(Completion.course))
        .order_by(Completion.completed_on, Completion.id)
    )
    if changed_since is not None:
        query = query.where(or_(Completion.created_at >= changed_since, Completion.checked_at >= changed_since))
    return list(db.session.scalars(query).unique())


def certificates(agency: Agency, period: Period, changed_since: datetime | None) -> list[Certificate]:
    """Certificates issued in the period for places booked for the agency (as its coordinator's
    bookings list, whose attendance they certify)."""
    query = (
        select(Certificate)
        .join(Booking, Booking.id == Certificate.booking_id)
        .where(Booking.agency_id == agency.id, Certificate.issued_at >= period.start_utc,
               Certificate.issued_at < period.end_utc)
        .options(joinedload(Certificate.booking).joinedload(Booking.user),
                 joinedload(Certificate.booking).joinedload(Booking.session).joinedload(Session.course))
        .order_by(Certificate.issued_at, Certificate.id)
    )
    if changed_since is not None:
        query = query.where(Certificate.issued_at >= changed_since)
    return list(db.session.scalars(query).unique())


def charges(agency: Agency, period: Period, changed_since: datetime | None) -> list[Charge]:
    """The agency's charges incurred in the period, as its coordinator's charges page lists them."""
    rows = charges_statement(period.starts_on, period.ends_on, {agency.id})
    if changed_since is not None:
        rows = [c for c in rows if c.updated_at >= changed_since]
    return rows


def refreshers(agency: Agency, date_from: date | None, date_to: date | None) -> list[RefresherRow]:
    """The agency's staff whose refresher is overdue or due soon, as its coordinator's page shows."""
    return [row for row in agency_refreshers(agency)
            if (date_from is None or row.due >= date_from) and (date_to is None or row.due <= date_to)]


def staff_member(agency: Agency, person_id: int | None = None, email: str | None = None) -> User | None:
    """One of the agency's people, by id or by e-mail address (any case); None for anyone else, so
    a caller cannot tell another agency's person from nobody."""
    if person_id is not None:
        person = db.session.get(User, person_id)
    elif email:
        person = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    else:
        person = None
    return person if person is not None and person.agency_id == agency.id else None


def agency_booking(agency: Agency, booking_id: int) -> Booking | None:
    """A booking made for the agency, of one of its people (None for any other)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.agency_id != agency.id or booking.user.agency_id != agency.id:
        return None
    return booking


def agency_tokens(agency: Agency) -> list[ApiToken]:
    """The agency's tokens, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.agency_id == agency.id)
        .options(joinedload(ApiToken.created_by), joinedload(ApiToken.revoked_by))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))

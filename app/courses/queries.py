"""Reading the programme: filtered session lists loaded in a fixed number of queries.

Every list eager-loads what its pages show (parts, venue, course, level, themes, reserved places
with their sector or agency), so the number of queries does not grow with the number of sessions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import ACTIVE, ADMIN, TRAINER, Agency, RoleGrant, Sector, User
from app.clock import add_months, day_start_utc, london_to_utc, to_london, today_london, utcnow
from app.courses.availability import booking_facts
from app.courses.models import (
    CANCELLED,
    DRAFT,
    PUBLISHED,
    Course,
    CourseInterest,
    LearningSource,
    LearningSourceEvent,
    Level,
    Provider,
    Recommendation,
    Reservation,
    Session,
    SessionPart,
    Theme,
    TrainerProfile,
    Venue,
    course_audience_sectors,
    session_trainers,
)
from app.extensions import db
from app.inputs import YEAR_MAX, YEAR_MIN, whole_number

def _session_loads(collection) -> tuple:
    """What the pages show with a session, its lists (parts, reservations) loaded by `collection`."""
    return (
        collection(Session.parts),
        joinedload(Session.venue),
        joinedload(Session.course).joinedload(Course.level),
        # availability_for reads each reservation's label: load sector and agency with it.
        collection(Session.reservations).joinedload(Reservation.sector),
        collection(Session.reservations).joinedload(Reservation.agency),
        joinedload(Session.closed_to_agency),
    )


# Lists of sessions: each list in one more statement for all of them.
SESSION_LOADS = _session_loads(selectinload)
# One session with all of that and its conference programme, in one statement (the booking page
# and a booking: in a rush every round trip counts).
ONE_SESSION_LOADS = (*_session_loads(joinedload), joinedload(Session.programme))


@dataclass(frozen=True)
class ClosedScope:
    """Which closed sessions (for one agency's staff) a viewer sees: their own agency's, or every
    one (the L&D team). Everyone else, and every public feed, sees open sessions only."""

    agency_id: int | None = None
    everyone: bool = False

    @classmethod
    def for_viewer(cls, person) -> ClosedScope:
        """The scope of a viewer (Flask-Login's current user: a person, or anonymous)."""
        if not person.is_authenticated:
            return cls()
        return cls(everyone=True) if person.has_role(ADMIN) else cls(agency_id=person.agency_id)

    def condition(self) -> ColumnElement[bool]:
        """A condition on Session: open to everyone, or closed to an agency this viewer may see."""
        if self.everyone:
            return true()
        if self.agency_id is None:
            return Session.closed_to_agency_id.is_(None)
        return or_(Session.closed_to_agency_id.is_(None), Session.closed_to_agency_id == self.agency_id)


PUBLIC = ClosedScope()
EVERY_SESSION = ClosedScope(everyone=True)


@dataclass
class ProgrammeFilters:
    q: str = ""
    level_id: int = 0
    theme_id: int = 0
    sector_id: int = 0
    month: str = ""  # "YYYY-MM", a London calendar month
    with_places: bool = False

    @classmethod
    def from_args(cls, args) -> ProgrammeFilters:
        def number(name):
            return whole_number(args.get(name)) or 0

        month = args.get("month", "")
        if not (re.fullmatch(r"[0-9]{4}-[0-9]{2}", month) and 1 <= int(month[5:]) <= 12
                and YEAR_MIN <= int(month[:4]) <= YEAR_MAX):
            month = ""
        return cls(
            q=args.get("q", "").strip()[:100],
            level_id=number("level"),
            theme_id=number("theme"),
            sector_id=number("sector"),
            month=month,
            with_places=args.get("places") in ("y", "1", "on", "true"),
        )

    @property
    def any(self) -> bool:
        return bool(self.q or self.level_id or self.theme_id or self.sector_id or self.month or self.with_places)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The UTC moments a London calendar month ("2027-03") starts and ends."""
    year, number = int(month[:4]), int(month[5:])
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    return london_to_utc(datetime(year, number, 1)), london_to_utc(datetime(*following, 1))


def upcoming_query(filters: ProgrammeFilters, now: datetime | None = None, scope: ClosedScope = PUBLIC) -> Select:
    """Published sessions not yet started that match the filters and the viewer may see, in date order."""
    now = now or utcnow()
    query = (
        select(Session)
        .join(Session.course)
        .outerjoin(Session.venue)
        .where(Session.status == PUBLISHED, Session.starts_at > now, scope.condition())
    )
    if filters.level_id:
        query = query.where(Course.level_id == filters.level_id)
    if filters.theme_id:
        query = query.where(Course.themes.any(Theme.id == filters.theme_id))
    if filters.sector_id:
        # A course with no audience sectors is for everyone.
        query = query.where(or_(
            Course.audience_sectors.any(Sector.id == filters.sector_id),
            ~select(course_audience_sectors.c.course_id)
            .where(course_audience_sectors.c.course_id == Course.id).exists(),
        ))
    if filters.month:
        start, end = month_bounds(filters.month)
        query = query.where(Session.starts_at >= start, Session.starts_at < end)
    if filters.q:
        like = [
            func.lower(Course.title).contains(filters.q.lower(), autoescape=True),
            func.lower(Course.code).contains(filters.q.lower(), autoescape=True),
            func.lower(Course.description).contains(filters.q.lower(), autoescape=True),
            func.lower(Venue.name).contains(filters.q.lower(), autoescape=True),
        ]
        query = query.where(or_(*like))
    if filters.with_places:
        query = query.where(booking_facts().has_places_left())
    return query.order_by(Session.starts_at, Session.id)


def count_of(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def load_sessions(query: Select, limit: int | None = None, offset: int = 0, loads=SESSION_LOADS) -> list[Session]:
    """Run a session query with everything the pages show loaded alongside."""
    query = query.options(*loads)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(db.session.scalars(query).unique())


def upcoming_months(now: datetime | None = None, scope: ClosedScope = PUBLIC) -> list[str]:
    """The London months ("YYYY-MM") that have upcoming published sessions the viewer may see."""
    now = now or utcnow()
    moments = db.session.scalars(
        select(Session.starts_at).where(Session.status == PUBLISHED, Session.starts_at > now, scope.condition())
        .order_by(Session.starts_at)
    )
    return sorted({to_london(m).strftime("%Y-%m") for m in moments})


def month_label(month: str) -> str:
    return date(int(month[:4]), int(month[5:]), 1).strftime("%B %Y")


def by_month(sessions: list[Session]) -> list[tuple[str, list[Session]]]:
    """Group sessions (already in date order) under their London month."""
    return [(month_label(key), list(group))
            for key, group in groupby(sessions, key=lambda s: to_london(s.starts_at).strftime("%Y-%m"))]


def feed_sessions(course: Course | None = None, now: datetime | None = None) -> list[Session]:
    """Sessions for a public calendar feed: published or cancelled open sessions not yet finished."""
    now = now or utcnow()
    query = select(Session).where(
        Session.status.in_((PUBLISHED, CANCELLED)), Session.ends_at > now, PUBLIC.condition()
    )
    if course is not None:
        query = query.where(Session.course_id == course.id)
    return load_sessions(query.order_by(Session.starts_at, Session.id))


def programme_year_bounds(start_year: int) -> tuple[datetime, datetime]:
    """The partnership's programme year runs from April to March."""
    return london_to_utc(datetime(start_year, 4, 1)), london_to_utc(datetime(start_year + 1, 4, 1))


def programme_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def year_sessions(start_year: int, scope: ClosedScope = PUBLIC) -> list[Session]:
    """The programme year's published sessions the viewer may see, in date order."""
    start, end = programme_year_bounds(start_year)
    return load_sessions(
        select(Session).where(Session.status == PUBLISHED, Session.starts_at >= start, Session.starts_at < end,
                              scope.condition())
        .order_by(Session.starts_at, Session.id)
    )


def visible_session(session_id: int | None, include_drafts: bool, scope: ClosedScope = PUBLIC,
                    with_programme: bool = False) -> Session | None:
    """The session with this id, or None if there is none or it is a draft or a closed session the
    viewer may not see.

    A draft's course, dates and venue are not settled: only administrators see it (pass
    include_drafts for them); to everyone else it does not exist. A closed session exists only for
    its agency's staff and the L&D team (`scope`), so its address tells nobody else anything.
    `with_programme`: its conference programme too, all in one statement.
    """
    if session_id is None:
        return None
    query = select(Session).where(Session.id == session_id, scope.condition())
    if not include_drafts:
        query = query.where(Session.status != DRAFT)
    sessions = load_sessions(query, loads=ONE_SESSION_LOADS if with_programme else SESSION_LOADS)
    return sessions[0] if sessions else None


def course_sessions(course: Course, include_drafts: bool, now: datetime | None = None,
                    scope: ClosedScope = PUBLIC) -> list[Session]:
    """A course's sessions that have not yet started and the viewer may see (drafts only for administrators)."""
    now = now or utcnow()
    statuses = [PUBLISHED, CANCELLED] + ([DRAFT] if include_drafts else [])
    return load_sessions(
        select(Session).where(Session.course_id == course.id, Session.status.in_(statuses),
                              Session.starts_at > now, scope.condition())
        .order_by(Session.starts_at, Session.id)
    )


def admin_sessions_query(status: str, period: str, course_id: int, now: datetime | None = None) -> Select:
    """Sessions for the at-a-glance list, filtered by status, period and course."""
    now = now or utcnow()
    query = select(Session)
    if status in (DRAFT, PUBLISHED, CANCELLED):
        query = query.where(Session.status == status)
    if period == "past":
        query = query.where(Session.starts_at <= now).order_by(Session.starts_at.desc(), Session.id.desc())
    else:
        query = query.where(or_(Session.starts_at > now, Session.starts_at.is_(None)))
        query = query.order_by(Session.starts_at, Session.id)
    if course_id:
        query = query.where(Session.course_id == course_id)
    return query


def sessions_with_ids(ids: list[int]) -> list[Session]:
    """The sessions with these ids, loaded for their pages."""
    return load_sessions(select(Session).where(Session.id.in_(ids))) if ids else []


def last_session_of(course: Course) -> Session | None:
    """The session of `course` added most recently."""
    return db.session.scalar(
        select(Session).where(Session.course_id == course.id).order_by(Session.created_at.desc(), Session.id.desc())
    )


def session_count(course: Course) -> int:
    """How many sessions the course has had, in any state."""
    return db.session.scalar(select(func.count()).select_from(Session).where(Session.course_id == course.id)) or 0


def upcoming_session_counts(now: datetime | None = None) -> dict[int, int]:
    """Sessions not yet started and not cancelled, counted by course id."""
    return dict(db.session.execute(
        select(Session.course_id, func.count())
        .where(Session.starts_at > (now or utcnow()), Session.status != CANCELLED)
        .group_by(Session.course_id)
    ).all())


def course_by_code(code: str) -> Course | None:
    """The course with this code, whatever its case."""
    return db.session.scalar(select(Course).where(func.lower(Course.code) == code.lower()))


def catalogue(include_retired: bool = True) -> list[Course]:
    """Courses by title, with their level (retired ones only when asked for)."""
    query = select(Course).options(selectinload(Course.level)).order_by(Course.title)
    if not include_retired:
        query = query.where(Course.retired_at.is_(None))
    return list(db.session.scalars(query))


def refresher_courses() -> list[Course]:
    """Courses with a refresher interval, which another course may renew, by title."""
    return list(db.session.scalars(select(Course).where(Course.refresher_months > 0).order_by(Course.title)))


def levels_in_order() -> list[Level]:
    """The levels in the order the partnership lists them."""
    return list(db.session.scalars(select(Level).order_by(Level.position, Level.name)))


def themes_by_name() -> list[Theme]:
    """The theme tags, by name."""
    return list(db.session.scalars(select(Theme).order_by(Theme.name)))


def venues_by_name(active_first: bool = False) -> list[Venue]:
    """The venues by name (those in use first, when asked for)."""
    order = (Venue.active.desc(), Venue.name) if active_first else (Venue.name,)
    return list(db.session.scalars(select(Venue).order_by(*order)))


def active_sectors() -> list[Sector]:
    """The sectors in use, in their listed order (a course's audience, a reservation's)."""
    return list(db.session.scalars(select(Sector).where(Sector.active.is_(True)).order_by(Sector.position)))


def active_agencies() -> list[Agency]:
    """The agencies in use, by name (a reservation's)."""
    return list(db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


def with_ids(model, ids: list[int] | None) -> list:
    """The rows of `model` with these ids (chosen in a form's list)."""
    return list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []


def trainer_candidates() -> list[User]:
    """People with the trainer role, by name."""
    return list(db.session.scalars(
        select(User).where(User.status == ACTIVE, User.role_grants.any(RoleGrant.role == TRAINER))
        .order_by(User.name)
    ))


# --- Learning sources and their recommendations (issue 17) ---------------------------------------

def learning_sources() -> list[LearningSource]:
    """Every source, newest publication first (unpublished ones at the top), with its recommendations."""
    return list(db.session.scalars(
        select(LearningSource).options(selectinload(LearningSource.recommendations))
        .order_by(LearningSource.published_on.desc().nulls_first(), LearningSource.title)))


def source_history(source: LearningSource) -> list[LearningSourceEvent]:
    """A source's history, newest first, with who made each change."""
    return list(db.session.scalars(
        select(LearningSourceEvent).options(joinedload(LearningSourceEvent.actor))
        .where(LearningSourceEvent.source_id == source.id).order_by(LearningSourceEvent.id.desc())))


def linkable_sessions(recommendation: Recommendation, now: datetime | None = None,
                      months_back: int = 24) -> list[Session]:
    """Sessions a recommendation may be linked to: not cancelled, from `months_back` months ago on,
    and any it is linked to already, in date order."""
    now = now or utcnow()
    since = day_start_utc(add_months(to_london(now).date(), -months_back))
    linked = [s.id for s in recommendation.sessions]
    query = (select(Session).options(joinedload(Session.course))
             .where(or_(and_(Session.status != CANCELLED, Session.starts_at >= since), Session.id.in_(linked or [-1])))
             .order_by(Session.starts_at, Session.id))
    return list(db.session.scalars(query))


def public_recommendations_of(course: Course, session: Session | None = None,
                              today: date | None = None) -> list[Recommendation]:
    """The published sources' recommendations a course (or one of its sessions) answers: those
    linked to the course, and those linked to the session itself."""
    today = today or today_london()
    answers = Recommendation.courses.any(Course.id == course.id)
    if session is not None and session.id is not None:
        answers = or_(answers, Recommendation.sessions.any(Session.id == session.id))
    return list(db.session.scalars(
        select(Recommendation).join(LearningSource, LearningSource.id == Recommendation.source_id)
        .options(joinedload(Recommendation.source))
        .where(answers, LearningSource.published_on.is_not(None), LearningSource.published_on <= today)
        .order_by(LearningSource.published_on.desc(), LearningSource.title, Recommendation.number)))

def interest_of(course: Course, person: User) -> CourseInterest | None:
    """The person's interest in the course, if they registered it."""
    return db.session.scalar(
        select(CourseInterest).where(CourseInterest.course_id == course.id, CourseInterest.user_id == person.id))


def interests_of(person: User) -> list[CourseInterest]:
    """The courses a person asked to hear about, by title."""
    return list(db.session.scalars(
        select(CourseInterest).join(Course, CourseInterest.course_id == Course.id)
        .where(CourseInterest.user_id == person.id).options(joinedload(CourseInterest.course))
        .order_by(Course.title)))


def interest_counts(course_ids: list[int]) -> dict[int, int]:
    """How many people asked to hear about new dates of each course (for the L&D team planning dates)."""
    if not course_ids:
        return {}
    return dict(db.session.execute(
        select(CourseInterest.course_id, func.count()).where(CourseInterest.course_id.in_(course_ids))
        .group_by(CourseInterest.course_id)).all())


def bookable_dates_for(course: Course, person: User) -> list[Session]:
    """Upcoming published sessions of the course with a place this person could take now."""
    sessions = list(db.session.scalars(
        select(Session).where(Session.course_id == course.id, Session.status == PUBLISHED,
                              Session.starts_at > utcnow()).order_by(Session.starts_at)))
    places = booking_facts().places(sessions)
    agency = person.agency
    sector_id = agency.sector_id if agency is not None else None
    return [s for s in sessions if places[s.id].bookable and places[s.id].state != "full"
            and places[s.id].left_for(person.agency_id, sector_id) > 0]
def overlapping_parts(session_id: int | None, parts: list[tuple[datetime, datetime]], venue_id: int | None,
                      trainer_ids: list[int]) -> list[SessionPart]:
    """Parts of other sessions not cancelled that overlap any of `parts` (UTC) and share the venue
    or a trainer, with their session, course and trainers loaded; soonest first."""
    if not parts or (venue_id is None and not trainer_ids):
        return []
    shares = []
    if venue_id is not None:
        shares.append(Session.venue_id == venue_id)
    if trainer_ids:
        shares.append(Session.id.in_(select(session_trainers.c.session_id)
                                     .where(session_trainers.c.user_id.in_(trainer_ids))))
    query = (
        select(SessionPart).join(Session, SessionPart.session_id == Session.id)
        .where(Session.status != CANCELLED, or_(*shares),
               or_(*[(SessionPart.starts_at < end) & (SessionPart.ends_at > start) for start, end in parts]))
        .options(joinedload(SessionPart.session).joinedload(Session.course),
                 joinedload(SessionPart.session).selectinload(Session.trainers))
        .order_by(SessionPart.starts_at)
    )
    if session_id is not None:
        query = query.where(Session.id != session_id)
    return list(db.session.scalars(query).unique())


def trainer_profiles_of(user_ids: list[int]) -> dict[int, TrainerProfile]:
    """Trainer profiles by user id, with their provider, courses and unavailability."""
    if not user_ids:
        return {}
    profiles = db.session.scalars(
        select(TrainerProfile).where(TrainerProfile.user_id.in_(user_ids))
        .options(joinedload(TrainerProfile.provider), selectinload(TrainerProfile.courses),
                 selectinload(TrainerProfile.unavailability)))
    return {p.user_id: p for p in profiles}


def providers_by_name(active_only: bool = False) -> list[Provider]:
    query = select(Provider).options(selectinload(Provider.trainers).joinedload(TrainerProfile.user))
    if active_only:
        query = query.where(Provider.active.is_(True))
    return list(db.session.scalars(query.order_by(Provider.name)))


def trainer_pool() -> list[tuple[User, TrainerProfile | None]]:
    """Everyone with the trainer role (and anyone with a profile), with their profile, by name."""
    people = {u.id: u for u in trainer_candidates()}
    profiles = db.session.scalars(
        select(TrainerProfile).options(joinedload(TrainerProfile.user), joinedload(TrainerProfile.provider),
                                       selectinload(TrainerProfile.courses)))
    by_user = {}
    for profile in profiles:
        by_user[profile.user_id] = profile
        people.setdefault(profile.user_id, profile.user)
    return [(u, by_user.get(u.id)) for u in sorted(people.values(), key=lambda u: u.name)]


def trainer_profile_of(user_id: int) -> TrainerProfile | None:
    return db.session.scalar(select(TrainerProfile).where(TrainerProfile.user_id == user_id))


def provider_named(name: str, other_than: int | None = None) -> Provider | None:
    query = select(Provider).where(func.lower(Provider.name) == name.lower())
    if other_than is not None:
        query = query.where(Provider.id != other_than)
    return db.session.scalar(query)

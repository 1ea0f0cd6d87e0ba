"""Who may book a session now: a list of small named checks, each one rule, asked in order.

`eligibility_problem` asks each check in turn and returns the first refusal. Another domain adds a
rule with `add_eligibility_check(func, order=...)` at import (attendance adds "suspended after
missed sessions"): `func(request)` returns a refusal in words, or None.

What a rule needs from the database beyond the rows already loaded, it declares as facts: named
scalar subqueries (`facts=` when it is added) about the request's parameters below (SESSION_ID,
PERSON_ID...). Every fact of every rule asked is read in one statement before the first rule is
asked, so asking who may book costs one round trip however many rules there are, and a booking asks
it again, in one more, once the session is locked. The statement is built once for each set of
facts and kept, so a request only binds its values.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Date, Integer, Select, bindparam, exists, func, select

from app.accounts.models import ACTIVE, User
from app.bookings.models import (
    ACTIVE_STATES,
    AWAITING_APPROVAL,
    CONFIRMED,
    OFFERED,
    PRIOR_LEARNING,
    WAITING,
    Booking,
    Completion,
)
from app.clock import today_london, utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import PUBLISHED, Course, Session, course_prerequisites
from app.extensions import db
from app.templating import format_date, format_datetime


UNREAD = object()  # "not read yet", as opposed to None, "no booking"


@dataclass(frozen=True)
class BookingRequest:
    """One question "may `person` book `session` now?", with how it is asked.

    `you`: the person is asking for themselves (the answer says "you"), not someone on their behalf.
    """

    session: Session
    person: User
    you: bool = True
    ignore_window: bool = False
    allow_waiting_here: bool = False
    needs_manager: bool = False
    check_prerequisites: bool = True
    now: datetime = field(default_factory=utcnow)
    # The person's booking on the session (any state, or None) when the caller has read it already.
    mine: Booking | None | object = UNREAD
    # The rules' facts, read in one statement before they are asked (see `ask_eligibility`).
    facts: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.person.name

    @property
    def mine_status(self) -> str | None:
        """The state of the person's booking on the session (None: no booking)."""
        if self.mine is UNREAD:
            return self.facts["mine_status"]
        return self.mine.status if self.mine is not None else None

    def says(self, to_them: str, about_them: str) -> str:
        """The words for the person themselves, or for someone booking for them."""
        return to_them if self.you else about_them


EligibilityCheck = Callable[[BookingRequest], str | None]
# A fact: a scalar subquery (a count, a date, a state) about the request's values, bound as these.
Fact = ColumnElement
SESSION_ID = bindparam("fact_session_id", type_=Integer())
COURSE_ID = bindparam("fact_course_id", type_=Integer())
PERSON_ID = bindparam("fact_person_id", type_=Integer())
NOW = bindparam("fact_now", type_=Session.__table__.c.starts_at.type)  # the request's moment (UTC)
TODAY = bindparam("fact_today", type_=Date())  # its day in London
_checks: list[tuple[int, EligibilityCheck]] = []
_facts: dict[str, dict[str, Fact]] = {}  # by the name of the rule that reads them
_statements: dict[tuple[str, ...], Select] = {}  # by the names of the facts it reads


def add_eligibility_check(func: EligibilityCheck, order: int = 100,
                          facts: dict[str, Fact] | None = None) -> EligibilityCheck:
    """Add a rule to who may book; lower `order` is asked first (the built-in rules are 10 to 90).
    `facts`: what it reads from the database, by name, found in `request.facts` when it is asked."""
    if all(check is not func for _, check in _checks):
        _checks.append((order, func))
        _checks.sort(key=lambda pair: pair[0])
        _facts[func.__name__] = dict(facts or {})
    return func


def eligibility_check(order: int, facts: dict[str, Fact] | None = None):
    """Register the decorated function as a rule of who may book, asked at `order`."""
    def decorator(func: EligibilityCheck) -> EligibilityCheck:
        return add_eligibility_check(func, order, facts)
    return decorator


def read_facts(request: BookingRequest, facts: dict[str, Fact], values: dict | None = None) -> dict:
    """Read the facts in one statement, by name, bound to the request (and `values`, for parameters
    of the caller's own facts). A name always stands for the same expression."""
    if not facts:
        return {}
    names = tuple(facts)
    statement = _statements.get(names)
    if statement is None:
        statement = _statements[names] = select(*(f.label(f"fact_{n}") for n, f in enumerate(facts.values())))
    bound = {SESSION_ID.key: request.session.id, COURSE_ID.key: request.session.course_id,
             PERSON_ID.key: request.person.id, NOW.key: request.now, TODAY.key: today_london(), **(values or {})}
    return dict(zip(names, db.session.execute(statement, bound).one()))


def eligibility_problem(session: Session, person: User, **asked) -> str | None:
    """Say why `person` cannot book `session` now, or None when they can (`asked`: as for
    `eligibility_refusal`)."""
    refusal = eligibility_refusal(session, person, **asked)
    return refusal[1] if refusal else None


def eligibility_refusal(session: Session, person: User, **asked) -> tuple[str, str] | None:
    """The name of the first check that refuses `person` on `session` now, and its words; None when
    they may book (`asked`: as for `ask_eligibility`)."""
    return ask_eligibility(session, person, **asked)[0]


def ask_eligibility(
    session: Session,
    person: User,
    *,
    ignore_window: bool = False,
    allow_waiting_here: bool = False,
    needs_manager: bool | None = None,
    you: bool = True,
    check_prerequisites: bool = True,
    only: frozenset[str] | None = None,
    mine: Booking | None | object = UNREAD,
    also: tuple[dict[str, Fact], dict] | None = None,
) -> tuple[tuple[str, str] | None, dict]:
    """The first refusal (as `eligibility_refusal`) and the facts read to ask the rules, with the
    caller's own read in the same statement (`also`: facts by name, and the values of their own
    parameters); `only`: ask just the checks with these names."""
    request = BookingRequest(
        session, person, you=you, ignore_window=ignore_window, allow_waiting_here=allow_waiting_here,
        needs_manager=session.course.requires_manager_approval if needs_manager is None else needs_manager,
        check_prerequisites=check_prerequisites, mine=mine,
    )
    checks = [check for _, check in _checks if only is None or check.__name__ in only]
    wanted: dict[str, Fact] = {}
    for check in checks:
        wanted.update(_facts.get(check.__name__, {}))
    extra, values = also or ({}, {})
    wanted.update(extra)
    request.facts.update(read_facts(request, wanted, values))
    for check in checks:
        problem = check(request)
        if problem:
            return (check.__name__, problem), request.facts
    return None, request.facts


def and_list(items: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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


# ---------------------------------------------------------------- the rules, in the order they are asked


@eligibility_check(10)
def email_confirmed(r: BookingRequest) -> str | None:
    """Refuse until the person has confirmed their e-mail address."""
    if not r.person.is_verified:
        return r.says("Confirm your e-mail address before you book: use the link we sent you.",
                      f"{r.name} has not confirmed their e-mail address yet.")
    return None


@eligibility_check(20)
def account_active(r: BookingRequest) -> str | None:
    """Refuse an account that is not active."""
    if r.person.status != ACTIVE:
        return r.says("Your account is not active, so you cannot book. Contact the L&D team.",
                      f"{r.name}’s account is not active.")
    return None


@eligibility_check(30)
def session_open(r: BookingRequest) -> str | None:
    """Refuse a session that is cancelled, unpublished or has started."""
    session = r.session
    if session.status == SESSION_CANCELLED:
        return "This session has been cancelled."
    if session.status != PUBLISHED:
        return "This session has not been published, so it cannot be booked yet."
    if session.starts_at is None or session.starts_at <= r.now:
        return "This session has already started, so booking has closed."
    return None


@eligibility_check(35)
def open_to_their_agency(r: BookingRequest) -> str | None:
    """Refuse a closed session to anyone outside the agency it is for (the L&D team included)."""
    closed_to = r.session.closed_to_agency
    if closed_to is None or r.person.agency_id == closed_to.id:
        return None
    return r.says(f"This session is only for staff of {closed_to.name}.",
                  f"This session is only for staff of {closed_to.name}, and {r.name} is not one of them.")


@eligibility_check(40)
def not_online(r: BookingRequest) -> str | None:
    """Refuse an online course: there is nothing to book."""
    if r.session.course.is_online:
        return "This is an online course: there is nothing to book. Record it when you have completed it."
    return None


@eligibility_check(50)
def within_booking_window(r: BookingRequest) -> str | None:
    """Refuse before booking opens or after it closes (unless the L&D team books)."""
    session = r.session
    if r.ignore_window:
        return None
    if session.booking_opens_at and r.now < session.booking_opens_at:
        return f"Booking for this session opens on {format_datetime(session.booking_opens_at)}."
    if session.booking_closes_at and r.now >= session.booking_closes_at:
        return f"Booking for this session closed on {format_datetime(session.booking_closes_at)}."
    return None


def _mine(column) -> Fact:
    """A column of the person's booking on the session (None: they have none)."""
    return select(column).where(Booking.session_id == SESSION_ID, Booking.user_id == PERSON_ID).scalar_subquery()


def _other_date(column) -> Fact:
    """A column of the person's soonest active booking on another date of the course to come."""
    return (
        select(column)
        .select_from(Booking)
        .join(Session, Booking.session_id == Session.id)
        .where(
            Booking.user_id == PERSON_ID,
            Booking.status.in_(ACTIVE_STATES),
            Session.course_id == COURSE_ID,
            Session.id != SESSION_ID,
            Session.status != SESSION_CANCELLED,
            Session.starts_at > NOW,
        )
        .order_by(Session.starts_at)
        .limit(1)
        .scalar_subquery()
    )


# How many of the course's prerequisites the person has not completed (as `missing_prerequisites`).
_PREREQUISITES_MISSING = (
    select(func.count()).select_from(course_prerequisites)
    .where(course_prerequisites.c.course_id == COURSE_ID,
           ~exists().where(Completion.user_id == PERSON_ID,
                           Completion.course_id == course_prerequisites.c.prerequisite_id, Completion.counts))
    .scalar_subquery()
)


BOOKING_ID = "mine_id"  # the fact holding the id of the person's booking on the session


@eligibility_check(60, facts={BOOKING_ID: _mine(Booking.id), "mine_status": _mine(Booking.status)})
def not_booked_here(r: BookingRequest) -> str | None:
    """Refuse someone who already has a place, or a waiting place, on this session."""
    status = r.mine_status
    if status is None or status not in ACTIVE_STATES:
        return None
    if status == WAITING and not r.allow_waiting_here:
        return r.says("You are already on the waiting list for this session.",
                      f"{r.name} is already on the waiting list for this session.")
    if status == AWAITING_APPROVAL:
        return r.says("You already have a place on this session, waiting for your manager to agree.",
                      f"{r.name} already has a place on this session.")
    if status == CONFIRMED:
        return r.says("You already have a place on this session.",
                      f"{r.name} already has a place on this session.")
    if status == OFFERED:
        return r.says("A place on this session is offered to you: accept it from My bookings or the e-mail.",
                      f"{r.name} has been offered a place on this session, to accept or let pass.")
    return None


@eligibility_check(70, facts={"other_status": _other_date(Booking.status),
                               "other_starts_at": _other_date(Session.starts_at)})
def not_booked_on_another_date(r: BookingRequest) -> str | None:
    """Refuse someone booked or waiting on another date of the same course."""
    status, starts_at = r.facts["other_status"], r.facts["other_starts_at"]
    if status is None:
        return None
    subject = r.says("You", r.name)
    if status == WAITING:
        what = (f"{subject} {r.says('are', 'is')} already on the waiting list for this course "
                f"on {format_date(starts_at)}")
    else:
        what = f"{subject} already {r.says('have', 'has')} a place on this course on {format_date(starts_at)}"
    return f"{what}. Cancel that booking first to come on this date instead."


@eligibility_check(80, facts={"prerequisites_missing": _PREREQUISITES_MISSING})
def prerequisites_completed(r: BookingRequest) -> str | None:
    """Refuse until the course's prerequisites are completed (or the L&D team overrides them)."""
    if not r.check_prerequisites or not r.facts["prerequisites_missing"]:
        return None
    # Which ones, for the words: read only when refusing.
    missing = missing_prerequisites(r.session.course, r.person)
    if not missing:
        return None
    message = (f"{r.says('You need', r.name + ' needs')} to complete {and_list([c.title for c in missing])} "
               "before booking this course.")
    if _awaiting_check(r.person, missing):
        message += r.says(" The training you recorded from elsewhere is waiting for the L&D team to check it.",
                          f" {r.name} has recorded training from elsewhere that is waiting to be checked.")
    return message


@eligibility_check(90)
def line_manager_known(r: BookingRequest) -> str | None:
    """Refuse a course that needs the line manager to agree when we have no address for them."""
    if r.needs_manager and not r.person.line_manager_email:
        return r.says("This course needs your line manager to agree. Add their e-mail address on your "
                      "account page (Your account, Line manager) first.",
                      f"{r.name} has no line manager e-mail address on their account.")
    return None

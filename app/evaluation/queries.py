"""The evaluation's reads for pages: a person's invitations, an agency's outstanding ones, and the
administrators' lists of versions, courses and invitations. (The figures are in figures.py.)"""
from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.bookings.models import Booking
from app.clock import utcnow
from app.courses.models import Course, Session, session_trainers
from app.evaluation.models import Invitation, Question, QuestionSet
from app.extensions import db

SESSIONS_PER_PAGE = 30


def invitations_for(person: User) -> list[Invitation]:
    """Return a person's invitations, newest first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.user_id == person.id)
        .order_by(Invitation.sent_at.desc(), Invitation.id.desc())
    ))



def outstanding_evaluations(agency_id: int) -> list[Invitation]:
    """List the open, unanswered evaluations of people booked from one agency, oldest first."""
    return list(db.session.scalars(
        select(Invitation)
        .join(Booking, Booking.id == Invitation.booking_id)
        .where(Booking.agency_id == agency_id, Invitation.submitted_at.is_(None),
               Invitation.expires_at > utcnow())
        .options(selectinload(Invitation.user),
                 selectinload(Invitation.session).selectinload(Session.course))
        .order_by(Invitation.sent_at, Invitation.id)
    ))



def question_set_versions(stage: int) -> list[QuestionSet]:
    """List every version of a stage's questions, newest first."""
    return list(db.session.scalars(
        select(QuestionSet).where(QuestionSet.stage == stage).order_by(QuestionSet.version.desc())
    ))


def answered_by_question_set() -> dict[int, int]:
    """Count the answered invitations of each question set version, by its id."""
    return dict(db.session.execute(
        select(Invitation.question_set_id, func.count(Invitation.submitted_at))
        .group_by(Invitation.question_set_id)
    ).all())


def courses_by_title() -> list[Course]:
    """List every course, by title."""
    return list(db.session.scalars(select(Course).order_by(Course.title)))


def course_question_counts() -> dict[int, int]:
    """Count the questions each course currently adds of its own, by course id."""
    return dict(db.session.execute(
        select(Question.course_id, func.count(Question.id))
        .where(Question.course_id.is_not(None), Question.retired_at.is_(None))
        .group_by(Question.course_id)
    ).all())


def session_invitations(session: Session) -> list[Invitation]:
    """List a session's invitations by stage, then by the person's name."""
    return list(db.session.scalars(
        select(Invitation).join(User, User.id == Invitation.user_id)
        .where(Invitation.session_id == session.id).order_by(Invitation.stage, User.name)
    ))


def sessions_with_invitations(page: int) -> Pagination:
    """Return a page of the sessions anyone was invited to evaluate, latest first."""
    return db.paginate(
        select(Session).where(Session.id.in_(select(Invitation.session_id)))
        .order_by(Session.starts_at.desc()), page=page, per_page=SESSIONS_PER_PAGE, error_out=False)


def trainer_sessions_with_invitations(trainer: User, page: int) -> Pagination:
    """Return a page of the sessions a trainer trained that anyone was invited to evaluate, latest first."""
    trained = select(session_trainers.c.session_id).where(session_trainers.c.user_id == trainer.id)
    return db.paginate(
        select(Session).where(Session.id.in_(trained), Session.id.in_(select(Invitation.session_id)))
        .order_by(Session.starts_at.desc()), page=page, per_page=SESSIONS_PER_PAGE, error_out=False)


def invitation_counts(session_ids: list[int]) -> dict[tuple[int, int], tuple[int, int]]:
    """Count the invitations sent and answered for each (session id, stage)."""
    rows = db.session.execute(
        select(Invitation.session_id, Invitation.stage, func.count(Invitation.id),
               func.count(Invitation.submitted_at))
        .where(Invitation.session_id.in_(session_ids))
        .group_by(Invitation.session_id, Invitation.stage)
    )
    return {(session_id, stage): (sent, answered) for session_id, stage, sent, answered in rows}

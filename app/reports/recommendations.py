"""Learning from reviews: for each recommendation of a serious case review, audit or Section 11
finding, the training that answers it, who attended it by sector, and what the second (months
later) evaluation says about practice since (issue 17).

Counting rules:
- A session answers a recommendation when it is linked to it, or is a session of a course linked
  to it; it counts when it starts in the period and is neither cancelled nor a draft (as in every
  report, reports/figures.py `in_period`).
- People attended: marked attended or partly attended (walk-ins included) at any of those sessions,
  each person once per recommendation; by sector, the sector of the agency they booked from (a
  person who moved sector between two sessions counts in each, once).
- Practice since: the stage-2 answers of people invited from those sessions, by question key
  (`applied`, `areas_changed`, `barriers`), so reworded versions add up. As on the evaluation
  pages, no answer figure is shown, to anyone, where fewer than SMALL_GROUP_MINIMUM answered.
- Written answers (a specific example, the difference for children and families) follow the
  evaluation's rules: none where fewer than the minimum answered at stage 2, and never a name,
  course, session or sector beside them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, distinct, func, select, union
from sqlalchemy.orm import contains_eager, selectinload

from app.accounts.models import Agency, Sector
from app.bookings.models import Booking
from app.courses.models import (
    SOURCE_KINDS,
    LearningSource,
    Recommendation,
    Session,
    recommendation_courses,
    recommendation_sessions,
)
from app.evaluation.figures import CHOICE_MEASURES, question_catalogue
from app.evaluation.models import STAGE_TWO, TEXT, Answer, Invitation, Question, Response
from app.extensions import db
from app.filters import Period, Viewer
from app.reports.figures import ATTENDED, NOT_RECORDED, in_period
from app.small_numbers import Hidden, is_small

WRITTEN_KEYS = ("example", "difference")  # the stage-2 questions about practice, in words
# Serious case reviews first, then audits, Section 11 findings and the rest; newest first within each.
KIND_ORDER = case({kind: position for position, kind in enumerate(SOURCE_KINDS)},
                  value=LearningSource.kind, else_=len(SOURCE_KINDS))


@dataclass
class ChoiceRow:
    label: str
    people: int | Hidden
    share: float | Hidden | None


@dataclass
class PracticeQuestion:
    key: str
    text: str
    respondents: int | Hidden  # stage-2 responses whose version asked it
    rows: list[ChoiceRow] = field(default_factory=list)


@dataclass
class RecommendationRow:
    recommendation_id: int
    source_id: int
    source: str
    kind: str
    number: int
    text: str
    status: str
    training: list[str]  # the courses and one-off sessions linked, in words
    sessions: int  # sessions that answer it in the period
    people: int | Hidden = 0  # different people who attended them
    by_sector: list[tuple[int | None, str, int | Hidden]] = field(default_factory=list)
    responses: int | Hidden = 0  # stage-2 evaluations answered by people from those sessions
    practice: list[PracticeQuestion] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"Recommendation {self.number} of {self.source}"


@dataclass
class RecommendationReport:
    period: Period
    rows: list[RecommendationRow]

    @property
    def sources(self) -> list[tuple[int, str, str, list[RecommendationRow]]]:
        """The rows grouped by source, in the report's order: (id, title, kind, rows)."""
        grouped: dict[int, tuple[int, str, str, list[RecommendationRow]]] = {}
        for row in self.rows:
            grouped.setdefault(row.source_id, (row.source_id, row.source, row.kind, []))[3].append(row)
        return list(grouped.values())


def _scope(period: Period):
    """(recommendation_id, session_id) for every session that answers a recommendation in the period."""
    direct = (select(recommendation_sessions.c.recommendation_id.label("recommendation_id"),
                     Session.id.label("session_id"))
              .join(Session, Session.id == recommendation_sessions.c.session_id).where(in_period(period)))
    through_course = (select(recommendation_courses.c.recommendation_id.label("recommendation_id"),
                             Session.id.label("session_id"))
                      .join(Session, Session.course_id == recommendation_courses.c.course_id)
                      .where(in_period(period)))
    return union(direct, through_course).subquery("answering")


def recommendation_report(period: Period, viewer: Viewer) -> RecommendationReport:
    """Every recommendation with the training that answers it, its attendance by sector and the
    second evaluation's answers about practice (exact: reports/published.py withholds small groups)."""
    scope = _scope(period)
    sessions = dict(db.session.execute(
        select(scope.c.recommendation_id, func.count(scope.c.session_id)).group_by(scope.c.recommendation_id)).all())
    attended = (select(scope.c.recommendation_id).select_from(scope)
                .join(Booking, Booking.session_id == scope.c.session_id)
                .where(ATTENDED, viewer.narrow(Booking.agency_id)))
    people = dict(db.session.execute(
        attended.with_only_columns(scope.c.recommendation_id, func.count(distinct(Booking.user_id)))
        .group_by(scope.c.recommendation_id)).all())
    sector_names = dict(db.session.execute(select(Sector.id, Sector.name)).all())
    by_sector: dict[int, list[tuple[int | None, str, int]]] = {}
    for rec_id, sector_id, n in db.session.execute(
            attended.outerjoin(Agency, Agency.id == Booking.agency_id)
            .with_only_columns(scope.c.recommendation_id, Agency.sector_id, func.count(distinct(Booking.user_id)))
            .group_by(scope.c.recommendation_id, Agency.sector_id)):
        by_sector.setdefault(rec_id, []).append((sector_id, sector_names.get(sector_id, NOT_RECORDED), n))
    practice = _practice(scope)
    rows = []
    for rec in db.session.scalars(
            select(Recommendation).join(LearningSource, LearningSource.id == Recommendation.source_id)
            # The source comes with the join the order needs, not one query per source.
            .options(contains_eager(Recommendation.source), selectinload(Recommendation.courses),
                     selectinload(Recommendation.sessions).selectinload(Session.course))
            .order_by(KIND_ORDER, LearningSource.published_on.desc().nulls_last(), LearningSource.title,
                      Recommendation.number)):
        responses, questions = practice.get(rec.id, (0, []))
        rows.append(RecommendationRow(
            rec.id, rec.source_id, rec.source.title, rec.source.kind_label, rec.number, rec.text,
            rec.status_label,
            [f"{c.title} (every session)" for c in rec.courses]
            + [f"{s.course.title}, {s.starts_at:%-d %B %Y}" if s.starts_at else s.course.title for s in rec.sessions],
            sessions.get(rec.id, 0), people.get(rec.id, 0),
            sorted(by_sector.get(rec.id, []), key=lambda s: (-s[2], s[1])), responses, questions))
    return RecommendationReport(period, rows)


def _practice(scope) -> dict[int, tuple[int | Hidden, list[PracticeQuestion]]]:
    """Per recommendation: the stage-2 responses from its sessions, and the share choosing each
    answer to the practice questions; nothing where fewer than the minimum answered."""
    responses = (select(scope.c.recommendation_id).select_from(scope)
                 .join(Invitation, (Invitation.session_id == scope.c.session_id) & (Invitation.stage == STAGE_TWO))
                 .join(Response, Response.invitation_id == Invitation.id))
    answered = dict(db.session.execute(
        responses.with_only_columns(scope.c.recommendation_id, func.count(distinct(Response.id)))
        .group_by(scope.c.recommendation_id)).all())
    asked: dict[int, dict[str, int]] = {}
    for rec_id, key, n in db.session.execute(
            responses.join(Question, Question.question_set_id == Response.question_set_id)
            .where(Question.key.in_(CHOICE_MEASURES), Question.stage == STAGE_TWO)
            .with_only_columns(scope.c.recommendation_id, Question.key, func.count(distinct(Response.id)))
            .group_by(scope.c.recommendation_id, Question.key)):
        asked.setdefault(rec_id, {})[key] = n
    chosen: dict[int, dict[str, dict[str, int]]] = {}
    for rec_id, key, value, n in db.session.execute(
            responses.join(Answer, Answer.response_id == Response.id)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.key.in_(CHOICE_MEASURES), Question.stage == STAGE_TWO, Question.course_id.is_(None))
            .with_only_columns(scope.c.recommendation_id, Question.key, Answer.value_text,
                               func.count(distinct(Answer.response_id)))
            .group_by(scope.c.recommendation_id, Question.key, Answer.value_text)):
        chosen.setdefault(rec_id, {}).setdefault(key, {})[value] = n
    catalogue = question_catalogue()
    found = {}
    for rec_id, total in answered.items():
        if is_small(total):
            found[rec_id] = (Hidden(), [])
            continue
        questions = []
        for key in CHOICE_MEASURES:
            info = catalogue.get((STAGE_TWO, None, key))
            respondents = asked.get(rec_id, {}).get(key, 0)
            if info is None or not respondents:
                continue
            counts = chosen.get(rec_id, {}).get(key, {})
            if is_small(respondents):
                questions.append(PracticeQuestion(key, info.text, Hidden(),
                                                  [ChoiceRow(label, Hidden(), Hidden()) for label in info.options.values()]))
                continue
            values = list(info.options) + [v for v in counts if v not in info.options]
            questions.append(PracticeQuestion(key, info.text, respondents, [
                ChoiceRow(info.options.get(v, v), counts.get(v, 0), counts.get(v, 0) / respondents) for v in values]))
        found[rec_id] = (total, questions)
    return found


@dataclass
class WrittenPractice:
    question: str
    answers: list[str]


def written_practice(recommendation: Recommendation, period: Period) -> tuple[int | Hidden, list[WrittenPractice]]:
    """The stage-2 written answers about practice from the sessions that answer a recommendation:
    (responses, answers by question), none where fewer than the minimum answered; text only."""
    scope = _scope(period)
    responses = (select(Response.id).select_from(scope)
                 .join(Invitation, (Invitation.session_id == scope.c.session_id) & (Invitation.stage == STAGE_TWO))
                 .join(Response, Response.invitation_id == Invitation.id)
                 .where(scope.c.recommendation_id == recommendation.id))
    total = db.session.scalar(select(func.count(distinct(responses.subquery().c.id)))) or 0
    if is_small(total):
        return Hidden(), []
    if not total:
        return 0, []
    catalogue = question_catalogue()
    found: dict[str, list[str]] = {}
    for key, text in db.session.execute(
            responses.join(Answer, Answer.response_id == Response.id)
            .join(Question, Question.id == Answer.question_id)
            .where(Question.key.in_(WRITTEN_KEYS), Question.kind == TEXT, Question.stage == STAGE_TWO,
                   Question.course_id.is_(None), func.length(func.trim(Answer.value_text)) > 0)
            .with_only_columns(Question.key, Answer.value_text)
            .order_by(Question.key, Answer.value_text)):  # not by person or date: nothing pairs two answers
        found.setdefault(key, []).append(text)
    return total, [WrittenPractice(catalogue[(STAGE_TWO, None, key)].text if (STAGE_TWO, None, key) in catalogue
                                   else key, found[key]) for key in WRITTEN_KEYS if key in found]


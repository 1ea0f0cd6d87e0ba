"""Why courses exist: serious case reviews, audits and Section 11 findings, their numbered
recommendations, and the courses and sessions that answer each one (issue 17).

The L&D team records them; every change (to a source, a recommendation, its status or the training
linked to it) writes a line of the source's history with who made it and when.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.accounts.models import User
from app.clock import today_london, utcnow
from app.courses.models import (
    CANCELLED,
    RECOMMENDATION_STATUSES,
    SOURCE_KINDS,
    Course,
    LearningSource,
    LearningSourceEvent,
    Recommendation,
    Session,
)
from app.courses.problems import Problems, clean, saved
from app.extensions import db
from app.templating import format_datetime

EARLIEST_PUBLICATION = date(1990, 1, 1)


@dataclass
class SourceDetails:
    kind: str
    title: str
    published_on: date | None = None
    summary: str = ""


def create_source(details: SourceDetails, actor: User) -> LearningSource:
    """Record a review, audit or Section 11 finding."""
    source = LearningSource()
    _apply_source(source, details)
    saved(source, new=True)
    _record(source, actor, "recorded", f"{source.kind_label}: {source.title}")
    return source


def update_source(source: LearningSource, details: SourceDetails, actor: User) -> LearningSource:
    """Change a source's kind, title, publication date or summary."""
    before = _source_facts(source)
    _apply_source(source, details)
    saved(source)
    changes = [f"{name} was {old or 'blank'}" for name, old in before.items()
               if _source_facts(source)[name] != old]
    if changes:
        _record(source, actor, "changed", "; ".join(changes))
    return source


def _source_facts(source: LearningSource) -> dict[str, str]:
    return {"kind": SOURCE_KINDS.get(source.kind, source.kind or ""), "title": source.title or "",
            "published": f"{source.published_on:%-d %B %Y}" if source.published_on else "",
            "summary": source.summary or ""}


def _apply_source(source: LearningSource, details: SourceDetails) -> None:
    problems = Problems()
    title = clean(details.title)
    if details.kind not in SOURCE_KINDS:
        problems.add("kind", "Choose what kind of source this is")
    if not title:
        problems.add("title", "Enter the source’s title, anonymised as published, for example Child R")
    elif len(title) > 200:
        problems.add("title", "The title must be 200 characters or fewer")
    elif db.session.scalar(select(LearningSource.id).where(
            func.lower(LearningSource.title) == title.lower(), LearningSource.id != (source.id or 0))):
        problems.add("title", f"There is already a source called {title}")
    published = details.published_on
    if published is not None and not EARLIEST_PUBLICATION <= published <= today_london():
        problems.add("published_on", "The publication date must be today or in the past, and after 1990; "
                                     "leave it blank until it is published")
    if len(clean(details.summary)) > 5000:
        problems.add("summary", "The summary must be 5,000 characters or fewer")
    problems.raise_any()
    source.kind = details.kind
    source.title = title
    source.published_on = published
    source.summary = clean(details.summary)


def add_recommendation(source: LearningSource, number: int | None, text: str, actor: User,
                       status: str = "open") -> Recommendation:
    """Add a numbered recommendation to a source."""
    recommendation = Recommendation()
    _apply_recommendation(recommendation, source, number, text, status)
    recommendation.source = source
    saved(recommendation, new=True)
    _record(source, actor, "recommendation added", recommendation.text, recommendation.number)
    return recommendation


def update_recommendation(recommendation: Recommendation, number: int | None, text: str, status: str,
                          actor: User) -> Recommendation:
    """Change a recommendation's number, wording or status."""
    before = (recommendation.number, recommendation.text, recommendation.status)
    _apply_recommendation(recommendation, recommendation.source, number, text, status)
    saved(recommendation)
    changes = []
    if before[0] != recommendation.number:
        changes.append(f"number was {before[0]}")
    if before[1] != recommendation.text:
        changes.append(f"wording was: {before[1]}")
    if before[2] != recommendation.status:
        changes.append(f"status {RECOMMENDATION_STATUSES.get(before[2], before[2])} to "
                       f"{recommendation.status_label}")
    if changes:
        _record(recommendation.source, actor, "recommendation changed", "; ".join(changes),
                recommendation.number)
    return recommendation


def _apply_recommendation(recommendation: Recommendation, source: LearningSource, number: int | None,
                          text: str, status: str) -> None:
    problems = Problems()
    if number is None or not 1 <= number <= 999:
        problems.add("number", "Enter the recommendation’s number as the source gives it, from 1 to 999")
    elif db.session.scalar(select(Recommendation.id).where(
            Recommendation.source_id == source.id, Recommendation.number == number,
            Recommendation.id != (recommendation.id or 0))):
        problems.add("number", f"{source.title} already has a recommendation {number}")
    text = clean(text)
    if not text:
        problems.add("text", "Enter the recommendation as the source words it")
    elif len(text) > 5000:
        problems.add("text", "The recommendation must be 5,000 characters or fewer")
    if status not in RECOMMENDATION_STATUSES:
        problems.add("status", "Choose the recommendation’s status")
    problems.raise_any()
    recommendation.number = number
    recommendation.text = text
    recommendation.status = status


def link_training(recommendation: Recommendation, courses: list[Course], sessions: list[Session],
                  actor: User) -> Recommendation:
    """Set the courses and sessions that answer a recommendation (a session of a linked course
    answers it already; a session linked on its own is a one-off, such as a learning workshop)."""
    problems = Problems()
    newly_linked = {s.id for s in sessions} - {s.id for s in recommendation.sessions}
    if any(s.status == CANCELLED for s in sessions if s.id in newly_linked):
        problems.add("session_ids", "A cancelled session answers nothing: leave it out")
    problems.raise_any()
    old_courses, old_sessions = set(recommendation.courses), set(recommendation.sessions)
    recommendation.courses = sorted(set(courses), key=lambda c: c.title)
    recommendation.sessions = sorted(set(sessions), key=lambda s: (s.starts_at is None, s.starts_at))
    saved(recommendation)
    lines = ([f"course {c.title} linked" for c in sorted(set(courses) - old_courses, key=lambda c: c.title)]
             + [f"course {c.title} unlinked" for c in sorted(old_courses - set(courses), key=lambda c: c.title)]
             + [f"session {_session_text(s)} linked" for s in set(sessions) - old_sessions]
             + [f"session {_session_text(s)} unlinked" for s in old_sessions - set(sessions)])
    if lines:
        _record(recommendation.source, actor, "training linked", "; ".join(sorted(lines)),
                recommendation.number)
    return recommendation


def _session_text(session: Session) -> str:
    when = format_datetime(session.starts_at) if session.starts_at else "no date"
    return f"{session.course.title}, {when}"


def _record(source: LearningSource, actor: User | None, action: str, detail: str,
            number: int | None = None) -> None:
    db.session.add(LearningSourceEvent(source=source, actor_id=actor.id if actor else None, action=action,
                                       detail=detail, recommendation_number=number, at=utcnow()))
    db.session.flush()

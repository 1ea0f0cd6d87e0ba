"""The demo step gives the review pages figures, with or without registers from other domains."""
import random
from datetime import timedelta

from sqlalchemy import func, select

from app.clock import utcnow
from app.evaluation import figures
from app.evaluation.demo import load_evaluations
from app.evaluation.models import Invitation, QuestionSet, Response
from app.extensions import db
from app.filters import Filters


def test_without_sessions_it_loads_only_the_question_sets(app):
    assert "no past sessions" in load_evaluations(random.Random(1))
    assert db.session.scalar(select(func.count(QuestionSet.id))) == 2
    assert db.session.scalar(select(func.count(Invitation.id))) == 0


def test_with_past_sessions_but_no_registers_it_invents_attendance_and_answers(
        app, every_figure, make_session, make_attendee, make_user, set_now):
    set_now(utcnow())
    make_user(roles=("admin",))
    for n in range(20):
        make_attendee()
    make_session(ends_at=utcnow() - timedelta(days=150), hours=7, venue=None)
    make_session(ends_at=utcnow() - timedelta(days=10), hours=7, venue=None)
    summary = load_evaluations(random.Random(2015))
    assert "first" in summary and "second" in summary
    counts = figures.stage_counts(Filters())
    assert counts[1].sent >= 16 and 0 < counts[1].responded < counts[1].sent
    assert counts[2].sent >= 8 and counts[2].responded > 0, "the older session is past its delay"
    assert figures.confidence_shift(Filters()).people > 0
    assert db.session.scalar(select(func.count(Response.id))) == counts[1].responded + counts[2].responded

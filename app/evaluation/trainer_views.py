"""A trainer's own evaluation results: the figures for each session they trained, nobody else's.

The figures are the reviewers' (app/evaluation/figures.py) narrowed to one session, so the same
small-number rule applies: a session with few answers shows "fewer than N", not the answers.
Written answers are not shown here: in one session they could say who wrote them.
"""
from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from app.accounts.access import TRAINER, requires
from app.attendance.register import is_session_trainer
from app.courses.models import PUBLISHED, Session
from app.evaluation import bp, charts, figures
from app.evaluation.queries import trainer_sessions_with_invitations
from app.filters import Filters
from app.inputs import query_page, row_or_404


@bp.route("/evaluation/my-sessions")
@requires(TRAINER)
def trainer_sessions():
    sessions = trainer_sessions_with_invitations(current_user, query_page())
    return render_template("evaluation/trainer_sessions.html", sessions=sessions)


@bp.route("/evaluation/my-sessions/<int:session_id>")
@requires(TRAINER)
def trainer_results(session_id: int):
    session = row_or_404(Session, session_id)
    # Only the session's own trainers: not found for anyone else, so ids reveal nothing.
    if session.status != PUBLISHED or not is_session_trainer(session, current_user):
        abort(404)
    filters = Filters(session_id=session.id)
    found = figures.summary(filters)
    return render_template(
        "evaluation/trainer_results.html", session=session, counts=found.counts,
        distributions=found.distributions, means=found.means, shift=found.shift, months=found.months,
        choices=found.choices, charts=charts.summary_charts(found),
    )

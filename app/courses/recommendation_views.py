"""The L&D team's screens for reviews, audits and Section 11 findings, their recommendations and
the training that answers them (under /admin/learning-sources)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.access import ADMIN, requires
from app.courses import bp
from app.courses.forms import LearningSourceForm, RecommendationForm, RecommendationTrainingForm
from app.courses.models import (
    OPEN,
    RECOMMENDATION_STATUSES,
    SOURCE_KINDS,
    Course,
    LearningSource,
    Recommendation,
    Session,
)
from app.courses.queries import catalogue, learning_sources, linkable_sessions, source_history, with_ids
from app.courses.recommendations import (
    SourceDetails,
    add_recommendation,
    create_source,
    link_training,
    update_recommendation,
    update_source,
)
from app.inputs import row_or_404
from app.refusals import refusals
from app.templating import format_datetime


@bp.route("/admin/learning-sources")
@requires(ADMIN)
def admin_learning_sources():
    return render_template("courses/admin/learning_sources.html", sources=learning_sources())


def _source_form(source: LearningSource | None) -> LearningSourceForm:
    form = LearningSourceForm(data=None if request.method == "POST" or source is None else {
        "kind": source.kind, "title": source.title, "published_on": source.published_on,
        "summary": source.summary})
    form.kind.choices = [("", "Choose a kind")] + list(SOURCE_KINDS.items())
    return form


def _source_details(form: LearningSourceForm) -> SourceDetails:
    return SourceDetails(kind=form.kind.data, title=form.title.data, published_on=form.published_on.data,
                         summary=form.summary.data)


@bp.route("/admin/learning-sources/new", methods=["GET", "POST"])
@requires(ADMIN)
def admin_learning_source_new():
    form = _source_form(None)
    if form.validate_on_submit():
        with refusals(form) as attempt:
            source = create_source(_source_details(form), current_user)
        if not attempt.refused:
            flash(f"{source.title} recorded. Now add its recommendations.", "success")
            return redirect(url_for("courses.admin_learning_source", source_id=source.id))
    return render_template("courses/admin/learning_source_form.html", form=form, source=None)


@bp.route("/admin/learning-sources/<int:source_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_learning_source(source_id: int):
    """A source: its details (to change), its recommendations, a new one, and its history."""
    source = row_or_404(LearningSource, source_id)
    form = _source_form(source)
    if form.validate_on_submit():
        with refusals(form) as attempt:
            update_source(source, _source_details(form), current_user)
        if not attempt.refused:
            flash(f"{source.title} saved.", "success")
            return redirect(url_for("courses.admin_learning_source", source_id=source.id))
    return render_template("courses/admin/learning_source.html", form=form, source=source,
                           history=source_history(source))


def _recommendation_form(recommendation: Recommendation | None, source: LearningSource) -> RecommendationForm:
    if recommendation is not None:
        data = {"number": recommendation.number, "text": recommendation.text, "status": recommendation.status}
    else:  # the next number, as sources number their recommendations in order
        data = {"number": max((r.number for r in source.recommendations), default=0) + 1, "status": OPEN}
    form = RecommendationForm(data=None if request.method == "POST" else data)
    form.status.choices = list(RECOMMENDATION_STATUSES.items())
    return form


@bp.route("/admin/learning-sources/<int:source_id>/recommendations/new", methods=["GET", "POST"])
@requires(ADMIN)
def admin_recommendation_new(source_id: int):
    source = row_or_404(LearningSource, source_id)
    form = _recommendation_form(None, source)
    if form.validate_on_submit():
        with refusals(form) as attempt:
            recommendation = add_recommendation(source, form.number.number, form.text.data, current_user,
                                                status=form.status.data)
        if not attempt.refused:
            flash(f"Recommendation {recommendation.number} added. Now link the training that answers it.",
                  "success")
            return redirect(url_for("courses.admin_recommendation_training", recommendation_id=recommendation.id))
    return render_template("courses/admin/recommendation_form.html", form=form, source=source, recommendation=None)


@bp.route("/admin/recommendations/<int:recommendation_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_recommendation_edit(recommendation_id: int):
    recommendation = row_or_404(Recommendation, recommendation_id)
    source = recommendation.source
    form = _recommendation_form(recommendation, source)
    if form.validate_on_submit():
        with refusals(form) as attempt:
            update_recommendation(recommendation, form.number.number, form.text.data, form.status.data,
                                  current_user)
        if not attempt.refused:
            flash(f"Recommendation {recommendation.number} saved.", "success")
            return redirect(url_for("courses.admin_learning_source", source_id=source.id))
    return render_template("courses/admin/recommendation_form.html", form=form, source=source,
                           recommendation=recommendation)


@bp.route("/admin/recommendations/<int:recommendation_id>/training", methods=["GET", "POST"])
@requires(ADMIN)
def admin_recommendation_training(recommendation_id: int):
    """Which courses and sessions answer a recommendation."""
    recommendation = row_or_404(Recommendation, recommendation_id)
    form = RecommendationTrainingForm(data=None if request.method == "POST" else {
        "course_ids": [c.id for c in recommendation.courses],
        "session_ids": [s.id for s in recommendation.sessions]})
    linked_courses = {c.id for c in recommendation.courses}
    form.course_ids.choices = [(c.id, f"{c.title} ({c.code})" + (" (retired)" if c.is_retired else ""))
                               for c in catalogue() if not c.is_retired or c.id in linked_courses]
    form.session_ids.choices = [
        (s.id, f"{s.course.title}, {format_datetime(s.starts_at) if s.starts_at else 'no date'}"
               + {"draft": " (draft)", "cancelled": " (cancelled)"}.get(s.status, ""))
        for s in linkable_sessions(recommendation)]
    if form.validate_on_submit():
        with refusals(form) as attempt:
            link_training(recommendation, with_ids(Course, form.course_ids.data),
                          with_ids(Session, form.session_ids.data), current_user)
        if not attempt.refused:
            flash(f"The training that answers recommendation {recommendation.number} is saved.", "success")
            return redirect(url_for("courses.admin_learning_source", source_id=recommendation.source_id))
    return render_template("courses/admin/recommendation_training.html", form=form, recommendation=recommendation)

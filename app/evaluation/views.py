"""Evaluation pages: answering by link, the learner's list, the L&D sub-group's figures, and the
L&D team's question sets, course settings and invitations."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, REVIEWER, public, requires, signed_in
from app.accounts.models import Sector
from app.clock import utcnow
from app.courses.models import Course, Level, Session
from app.courses.queries import EVERY_SESSION, visible_session
from app.evaluation import bp, charts, figures
from app.evaluation.answering import (
    field_name,
    open_invitation,
    open_manager_link,
    questions_for,
    submit_manager_comment,
    submit_response,
)
from app.evaluation.course_settings import course_setting, update_course_setting
from app.evaluation.errors import InvitationLinkError
from app.evaluation.forms import (
    CourseSettingsForm,
    ManagerCommentForm,
    PublishForm,
    QuestionEditForm,
    ReviewFilterForm,
    build_answer_form,
    raw_answers,
)
from app.evaluation.links import invitation_link
from app.evaluation.models import (
    SCALE,
    STAGE_LABELS,
    STAGES,
    Invitation,
    Question,
    QuestionSet,
)
from app.evaluation.queries import (
    answered_by_question_set,
    course_question_counts,
    courses_by_title,
    invitation_counts,
    invitations_for,
    question_set_versions,
    session_invitations,
    sessions_with_invitations,
)
from app.evaluation.question_sets import (
    QuestionData,
    course_questions,
    current_question_set,
    discard_draft,
    draft_question_set,
    move_question,
    publish_draft,
    remove_question,
    retire_course_question,
    save_course_question,
    save_question,
    start_draft,
)
from app.evaluation.sending import resend_invitation
from app.exports import csv_stream, download
from app.extensions import db
from app.filters import END_BEFORE_START, Filters, financial_year
from app.inputs import query_int, query_page, row_or_404
from app.refusals import refusals, show_refusal
from app.spreadsheets import XLSX_TYPE, Table, to_xlsx

# --- Answering by link (no sign-in) -------------------------------------------------------------


@bp.errorhandler(InvitationLinkError)
def link_problem(exc: InvitationLinkError):
    """Say why a link cannot be used: altered, closed, or already answered."""
    status = {"invalid": 400, "expired": 410, "submitted": 200}[exc.reason]
    manager = request.endpoint == "evaluation.manager_comment"
    return render_template("evaluation/link_problem.html", problem=exc, manager=manager), status


def _send_by_link(form, send: Callable[[], object], thanks: str, invitation: Invitation,
                  field: str | None = None):
    """Run what a link's form sends: the thanks page, or None with the refusal on the form."""
    with refusals(show=False) as attempt:
        send()
    if not attempt.refused:
        return render_template(thanks, invitation=invitation)
    if isinstance(attempt.error, InvitationLinkError):
        raise attempt.error  # rolled back; link_problem shows it
    show_refusal(form, attempt.error, field=field)
    return None


# A link that cannot be used raises InvitationLinkError, which link_problem shows.
@bp.route("/evaluation/answer/<token>", methods=["GET", "POST"])
@public
def answer(token: str):
    invitation = open_invitation(token)
    questions = questions_for(invitation)
    form = build_answer_form(questions)
    if form.validate_on_submit() and (sent := _send_by_link(
            form, lambda: submit_response(invitation, raw_answers(form, request.form)),
            "evaluation/thanks.html", invitation)):
        return sent
    return render_template("evaluation/answer.html", form=form, invitation=invitation,
                           fields=[(form[field_name(q)], q) for q in questions], SCALE=SCALE)


@bp.route("/evaluation/manager/<token>", methods=["GET", "POST"])
@public
def manager_comment(token: str):
    invitation = open_manager_link(token)
    form = ManagerCommentForm()
    if form.validate_on_submit() and (sent := _send_by_link(
            form, lambda: submit_manager_comment(invitation, form.comment.data),
            "evaluation/manager_thanks.html", invitation, field="comment")):
        return sent
    return render_template("evaluation/manager_comment.html", form=form, invitation=invitation)


# --- The learner's list -------------------------------------------------------------------------


@bp.route("/evaluation/mine")
@signed_in
def my_evaluations():
    now = utcnow()
    invitations = invitations_for(current_user)
    waiting = [(i, invitation_link(i)) for i in invitations if i.submitted_at is None and not i.is_expired(now)]
    done = [i for i in invitations if i.submitted_at is not None]
    closed = [i for i in invitations if i.is_expired(now)]
    return render_template("evaluation/mine.html", waiting=waiting, done=done, closed=closed,
                           stage_labels=STAGE_LABELS)


# --- What the L&D sub-group sees ----------------------------------------------------------------


def _filters() -> tuple[ReviewFilterForm, Filters]:
    """Read the review filters; while any is wrong, the figures are shown unfiltered."""
    form = ReviewFilterForm(request.args if request.args else None)
    form.choose_courses(form.course_id)
    form.choose_sectors(form.sector_id)
    form.choose_levels(form.level_id)
    filters = Filters()
    valid = bool(request.args) and form.validate()
    if valid and form.date_from.data and form.date_to.data and form.date_to.data < form.date_from.data:
        form.date_to.errors = [END_BEFORE_START]
        valid = False
    if valid:
        filters = Filters(course_id=form.course_id.data or None, sector_id=form.sector_id.data or None,
                          level_id=form.level_id.data or None, date_from=form.date_from.data,
                          date_to=form.date_to.data)
    filters.session_id = query_int("session_id") or None
    return form, filters


def _query_string() -> str:
    query = request.query_string.decode()
    return f"?{query}" if query else ""


@bp.route("/evaluation/review")
@requires(REVIEWER, ADMIN)
def review_home():
    form, filters = _filters()
    # Reviewers and the L&D team see the figures of closed sessions too: they count like any other.
    session = visible_session(filters.session_id, include_drafts=current_user.has_role(ADMIN), scope=EVERY_SESSION)
    if filters.session_id and session is None:
        abort(404)
    found = figures.summary(filters)
    return render_template(
        "evaluation/review.html", form=form, filters=filters, session=session, counts=found.counts,
        distributions=found.distributions, means=found.means, shift=found.shift, months=found.months,
        choices=found.choices, per_course=figures.per_course(filters), query=_query_string(),
        charts=charts.summary_charts(found),
    )


@bp.route("/evaluation/review/answers")
@requires(REVIEWER, ADMIN)
def review_answers():
    form, filters = _filters()
    page = query_page()
    with_names = current_user.has_role(ADMIN)
    # Without names, nothing beside an answer may place it in a group smaller than the minimum.
    groups = None if with_names else figures.response_groups(filters)
    answers = figures.written_answers(filters, with_names=with_names, page=page, groups=groups)
    comments = (figures.manager_comments(filters, with_names=with_names, groups=groups)
                if page == 1 else [])
    record_access("evaluation_answers", scope="with names" if with_names else "without names")
    args = {k: request.args.getlist(k) for k in request.args if k != "page"}
    return render_template("evaluation/review_answers.html", form=form, answers=answers,
                           comments=comments, with_names=with_names, query=_query_string(),
                           page_args=args, withheld=groups.withheld_stages() if groups else [],
                           stage_labels=STAGE_LABELS)


@bp.route("/evaluation/review/figures.csv")
@requires(REVIEWER, ADMIN)
def figures_csv():
    _form, filters = _filters()
    return csv_stream("evaluation-figures.csv", ["section", "measure", "stage", "value", "count"],
                      figures.figure_rows(filters))


@bp.route("/evaluation/review/figures.xlsx")
@requires(REVIEWER, ADMIN)
def figures_xlsx():
    _form, filters = _filters()
    table = Table("Evaluation figures", ["Section", "Measure", "Stage", "Value", "Count"],
                  figures.figure_rows(filters))
    heading = f"{current_app.config['PARTNERSHIP_NAME']}: evaluation results"
    return download(to_xlsx(heading, [table]), "evaluation-figures.xlsx", XLSX_TYPE)


@bp.route("/evaluation/review/answers.csv")
@requires(REVIEWER, ADMIN)
def answers_csv():
    _form, filters = _filters()
    groups = figures.response_groups(filters)
    if groups.withheld and not groups.shown:
        flash(f"Fewer than {current_app.config['SMALL_GROUP_MINIMUM']} people answered in this "
              "selection, so their answers cannot be downloaded without someone being picked out. "
              "Choose a wider selection.", "error")
        return redirect(url_for("evaluation.review_home") + _query_string())
    record_access("evaluation_answers", scope="without names", streamed=True)
    return csv_stream("evaluation-answers-anonymised.csv", figures.ANSWER_COLUMNS,
                      figures.anonymised_answer_rows(filters, groups))


@bp.route("/evaluation/review/summary")
@requires(REVIEWER, ADMIN)
def review_summary():
    form, filters = _filters()
    # The annual report's period: the financial year, or the one the given date falls in.
    if not filters.date_from:
        filters.date_from = financial_year(filters.date_to).starts_on
    if not filters.date_to:
        filters.date_to = financial_year(filters.date_from).ends_on
    catalogue = figures.question_catalogue()
    distributions = figures.rating_distributions(filters, catalogue)
    means = figures.measure_means(distributions)
    shift = figures.confidence_shift(filters)
    return render_template(
        "evaluation/summary.html", filters=filters, counts=figures.stage_counts(filters),
        means=means, shift=shift, choices=figures.choice_figures(filters, catalogue),
        per_course=figures.per_course(filters),
        course=db.session.get(Course, filters.course_id) if filters.course_id else None,
        sector=db.session.get(Sector, filters.sector_id) if filters.sector_id else None,
        level=db.session.get(Level, filters.level_id) if filters.level_id else None,
        charts={"means": charts.means_chart(means, "summary-means"),
                "shift": charts.shift_chart(shift, "summary-shift")},
    )


# --- Question sets (administrators) ------------------------------------------------------------


@bp.route("/evaluation/questions")
@requires(ADMIN)
def question_sets():
    stages = []
    for stage in STAGES:
        stages.append({"stage": stage, "label": STAGE_LABELS[stage],
                       "versions": question_set_versions(stage),
                       "current": current_question_set(stage), "draft": draft_question_set(stage)})
    return render_template("evaluation/question_sets.html", stages=stages,
                           answered=answered_by_question_set())


@bp.route("/evaluation/questions/<int:set_id>")
@requires(ADMIN)
def question_set(set_id: int):
    question_set = db.session.get(QuestionSet, set_id) or abort(404)
    return render_template("evaluation/question_set.html", question_set=question_set,
                           current=current_question_set(question_set.stage),
                           publish_form=PublishForm(), stage_label=STAGE_LABELS[question_set.stage])


@bp.route("/evaluation/questions/stage/<int:stage>/new-version", methods=["POST"])
@requires(ADMIN)
def new_version(stage: int):
    if stage not in STAGES:
        abort(404)
    draft = start_draft(stage, current_user)
    db.session.commit()
    flash(f"Version {draft.version} is a draft: change it, then publish it.", "success")
    return redirect(url_for("evaluation.question_set", set_id=draft.id))


def _question_data(form: QuestionEditForm) -> QuestionData:
    return QuestionData(
        text=form.text.data or "", kind=form.kind.data or "", required=bool(form.required.data),
        key=form.key.data or "", hint=form.hint.data or "", low_label=form.low_label.data or "",
        high_label=form.high_label.data or "", options=(form.options.data or "").splitlines(),
    )


def _fill_question_form(form: QuestionEditForm, question: Question) -> None:
    form.text.data, form.kind.data, form.required.data = question.text, question.kind, question.required
    form.key.data, form.hint.data = question.key, question.hint
    form.low_label.data, form.high_label.data = question.low_label, question.high_label
    form.options.data = "\n".join(o.label for o in question.options)


@bp.route("/evaluation/questions/<int:set_id>/add", methods=["GET", "POST"])
@bp.route("/evaluation/questions/<int:set_id>/<int:question_id>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def edit_question(set_id: int, question_id: int | None = None):
    question_set = db.session.get(QuestionSet, set_id) or abort(404)
    question = None
    if question_id is not None:
        question = db.session.get(Question, question_id)
        if question is None or question.question_set_id != question_set.id:
            abort(404)
    if not question_set.is_draft:
        flash("A published version cannot be changed. Start a new version instead.", "error")
        return redirect(url_for("evaluation.question_set", set_id=set_id))
    form = QuestionEditForm()
    if request.method == "GET" and question is not None:
        _fill_question_form(form, question)
    if form.validate_on_submit():
        with refusals(form) as attempt:
            save_question(question_set, _question_data(form), current_user, question)
        if not attempt.refused:
            flash("Question saved.", "success")
            return redirect(url_for("evaluation.question_set", set_id=set_id))
    return render_template("evaluation/question_edit.html", form=form, question=question,
                           back=url_for("evaluation.question_set", set_id=set_id),
                           heading=("Change a question" if question else "Add a question"),
                           caption=question_set.label)


def _draft_question(set_id: int, question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or question.question_set_id != set_id:
        abort(404)
    return question


@bp.route("/evaluation/questions/<int:set_id>/<int:question_id>/remove", methods=["POST"])
@requires(ADMIN)
def remove_draft_question(set_id: int, question_id: int):
    question = _draft_question(set_id, question_id)
    with refusals() as attempt:
        remove_question(question, current_user)
    if not attempt.refused:
        flash("Question removed from the draft.", "success")
    return redirect(url_for("evaluation.question_set", set_id=set_id))


@bp.route("/evaluation/questions/<int:set_id>/<int:question_id>/move", methods=["POST"])
@requires(ADMIN)
def move_draft_question(set_id: int, question_id: int):
    question = _draft_question(set_id, question_id)
    with refusals() as attempt:
        move_question(question, -1 if request.form.get("direction") == "up" else 1, current_user)
    return redirect(url_for("evaluation.question_set", set_id=set_id))


@bp.route("/evaluation/questions/<int:set_id>/publish", methods=["POST"])
@requires(ADMIN)
def publish_version(set_id: int):
    question_set = db.session.get(QuestionSet, set_id) or abort(404)
    form = PublishForm()
    if form.validate_on_submit():
        with refusals() as attempt:
            publish_draft(question_set, current_user, form.note.data or "")
        if not attempt.refused:
            flash(f"Version {question_set.version} is published: evaluations sent from now on use it. "
                  "Answers already given keep the version they were given.", "success")
    return redirect(url_for("evaluation.question_set", set_id=set_id))


@bp.route("/evaluation/questions/<int:set_id>/discard", methods=["POST"])
@requires(ADMIN)
def discard_version(set_id: int):
    question_set = db.session.get(QuestionSet, set_id) or abort(404)
    with refusals() as attempt:
        discard_draft(question_set, current_user)
    if attempt.refused:
        return redirect(url_for("evaluation.question_set", set_id=set_id))
    flash("The draft was discarded.", "success")
    return redirect(url_for("evaluation.question_sets"))


# --- Course settings and a course's own questions (administrators) ----------------------------


@bp.route("/evaluation/courses")
@requires(ADMIN)
def course_list():
    courses = courses_by_title()
    return render_template("evaluation/courses.html", courses=courses,
                           settings={c.id: course_setting(c) for c in courses},
                           extra_counts=course_question_counts())


@bp.route("/evaluation/courses/<int:course_id>", methods=["GET", "POST"])
@requires(ADMIN)
def course_settings(course_id: int):
    course = db.session.get(Course, course_id) or abort(404)
    setting = course_setting(course)
    form = CourseSettingsForm(obj=setting)
    if form.validate_on_submit():
        update_course_setting(course, current_user, manager_copy=form.manager_copy.data,
                              certificate_needs_evaluation=form.certificate_needs_evaluation.data)
        db.session.commit()
        flash("Evaluation settings saved.", "success")
        return redirect(url_for("evaluation.course_settings", course_id=course.id))
    return render_template("evaluation/course_settings.html", course=course, form=form,
                           extras={stage: course_questions(course.id, stage) for stage in STAGES},
                           stage_labels=STAGE_LABELS)


@bp.route("/evaluation/courses/<int:course_id>/stage/<int:stage>/add", methods=["GET", "POST"])
@bp.route("/evaluation/courses/<int:course_id>/questions/<int:question_id>/edit",
          methods=["GET", "POST"])
@requires(ADMIN)
def edit_course_question(course_id: int, stage: int | None = None, question_id: int | None = None):
    course = db.session.get(Course, course_id) or abort(404)
    question = None
    if question_id is not None:
        question = db.session.get(Question, question_id)
        if question is None or question.course_id != course.id or question.retired_at:
            abort(404)
        stage = question.stage
    if stage not in STAGES:
        abort(404)
    form = QuestionEditForm()
    if request.method == "GET" and question is not None:
        _fill_question_form(form, question)
    if form.validate_on_submit():
        with refusals(form) as attempt:
            save_course_question(course, stage, _question_data(form), current_user, replacing=question)
        if not attempt.refused:
            flash("Question saved.", "success")
            return redirect(url_for("evaluation.course_settings", course_id=course.id))
    return render_template("evaluation/question_edit.html", form=form, question=question,
                           back=url_for("evaluation.course_settings", course_id=course.id),
                           heading=("Change a question" if question else "Add a question"),
                           caption=f"{course.title}: stage {stage}")


@bp.route("/evaluation/courses/<int:course_id>/questions/<int:question_id>/retire", methods=["POST"])
@requires(ADMIN)
def retire_question(course_id: int, question_id: int):
    question = row_or_404(Question, question_id, course_id=course_id)
    with refusals() as attempt:
        retire_course_question(question, current_user)
    if not attempt.refused:
        flash("The course no longer asks that question. Its answers are kept.", "success")
    return redirect(url_for("evaluation.course_settings", course_id=course_id))


# --- Invitations: who answered, and resending (administrators) ---------------------------------


@bp.route("/evaluation/invitations")
@requires(ADMIN)
def invitations():
    session_id = query_int("session_id")
    now = utcnow()
    if session_id:
        session = db.session.get(Session, session_id) or abort(404)
        record_access("evaluation_invitations", scope=f"session {session.id}")
        return render_template("evaluation/invitations_session.html", session=session,
                               invitations=session_invitations(session), now=now)
    sessions = sessions_with_invitations(query_page())
    counts = invitation_counts([s.id for s in sessions.items])
    return render_template("evaluation/invitations.html", sessions=sessions, counts=counts)


@bp.route("/evaluation/invitations/<int:invitation_id>/resend", methods=["POST"])
@requires(ADMIN)
def resend(invitation_id: int):
    invitation = db.session.get(Invitation, invitation_id) or abort(404)
    with refusals() as attempt:
        resend_invitation(invitation, current_user)
    if not attempt.refused:
        flash(f"The evaluation was sent again to {invitation.user.name}.", "success")
    return redirect(url_for("evaluation.invitations", session_id=invitation.session_id))

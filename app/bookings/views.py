"""Booking pages: book, my bookings, cancel, pass on, managers' answers, the calendar feed, and the
L&D team's screens for a session's bookings and waiting list."""
from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, public, requires, signed_in
from app.accounts.limits import limited, per_person
from app.accounts.tokens import LinkError
from app.bookings import approvals, bp, completions, queries
from app.bookings.booking import book_place
from app.bookings.calendar_feed import reset_calendar_token
from app.bookings.cancellation import cancel_booking, is_late_cancellation
from app.bookings.eligibility import eligibility_problem
from app.bookings.forms import (
    AdminBookForm,
    AdminMoveForm,
    AdminPromoteForm,
    ApprovalAnswerForm,
    BookingCancelForm,
    BookingConfirmForm,
    BookingSubstituteForm,
    CompletionRecordForm,
    PriorLearningDecisionForm,
    PriorLearningRecordForm,
)
from app.bookings.models import (
    ACTIVE_STATES,
    AWAITING_APPROVAL,
    CONFIRMED,
    HOLDS_PLACE,
    OFFERED,
    PRIOR_LEARNING,
    STATE_LABELS,
    WAITING,
    Booking,
    Completion,
)
from app.bookings.line_manager import answer_approval, approval_problem
from app.bookings.moves import move_booking, substitute_colleague
from app.bookings.offer_links import offer_token
from app.bookings.places import availability_for, booking_state, release_moment
from app.bookings.places import STATE_LABELS as PLACE_STATE_LABELS
from app.bookings.session_changes import cancel_session_bookings
from app.bookings.waiting_list import promote_booking
from app.bookings.working_days import cancellation_deadline
from app.bookings.workshop_views import check_in_codes, chosen_workshop_ids, slot_choices
from app.bookings.workshops import choose_workshops
from app.calendar import personal_feed
from app.clock import utcnow
from app.courses.models import CANCELLED as SESSION_CANCELLED
from app.courses.models import Course, Session
from app.courses.queries import ClosedScope, interests_of, visible_session
from app.extensions import db
from app.locking import reads_first
from app.refusals import refusals

STATE_TAG_COLOURS = {
    CONFIRMED: "green",
    AWAITING_APPROVAL: "yellow",
    WAITING: "blue",
    OFFERED: "purple",
}


def _session_or_404(session_id: int) -> Session:
    return db.session.get(Session, session_id) or abort(404)


def _own_booking_or_404(booking_id: int) -> Booking:
    booking = queries.booking_with_session(booking_id)
    if booking is None or booking.user_id != current_user.id:
        abort(404)
    return booking


def _session_page(session: Session) -> str:
    """The session's page on the programme."""
    return url_for("courses.session_detail", session_id=session.id)


@bp.app_context_processor
def _booking_helpers():
    return {"state_tag_colours": STATE_TAG_COLOURS, "offer_url": _offer_url}


def _offer_url(booking: Booking, answer: str) -> str:
    """The page that answers the person's own offer (the same signed page the e-mail links to)."""
    return url_for("bookings.offer", token=offer_token(booking, answer))


# ---------------------------------------------------------------- booking


@bp.route("/sessions/<int:session_id>/book", methods=["GET", "POST"])
@reads_first
@signed_in
def book(session_id: int):
    session = visible_session(session_id, include_drafts=current_user.has_role(ADMIN),
                              scope=ClosedScope.for_viewer(current_user), with_programme=True) or abort(404)
    form = BookingConfirmForm()
    if request.method == "GET":
        form.access_needs.data = current_user.access_needs
    elif form.validate_on_submit():
        with refusals() as attempt:
            booking = book_place(session, current_user, current_user,
                                 access_needs=form.access_needs.data or "")
            if session.is_conference and booking.status in HOLDS_PLACE:
                choose_workshops(booking, chosen_workshop_ids(session), current_user)
            # Read before the commit: once it has committed, the person sees the outcome even if
            # the database is lost a moment later.
            status = booking.status
        if attempt.refused:
            return redirect(url_for("bookings.book", session_id=session_id))
        if status == CONFIRMED:
            flash("Your place is booked. We have e-mailed you a calendar invitation.", "success")
        elif status == AWAITING_APPROVAL:
            flash("We are holding a place for you and have asked your line manager to agree. "
                  "We will e-mail you when they answer.", "success")
        else:
            flash("The session is full for you, so you are on the waiting list. "
                  "We will e-mail you if a place comes up.", "success")
        return redirect(url_for("bookings.my_bookings"))
    problem = eligibility_problem(session, current_user)
    has_place, place = (False, "")
    if problem is None:
        has_place, place = queries.place_preview(session, current_user)
    return render_template(
        "bookings/book.html", session=session, course=session.course, form=form, problem=problem,
        has_place=has_place, place=place, session_page=_session_page(session),
        slot_choices=slot_choices(session) if session.is_conference else [],
        deadline=cancellation_deadline(session.starts_at, session.course.cancellation_notice_days)
        if session.starts_at else None,
    )


@bp.route("/my-bookings")
@signed_in
def my_bookings():
    upcoming, past = queries.bookings_for(current_user)
    # Training the person recorded themselves: sessions attended here (walk-ins too) are bookings.
    return render_template(
        "bookings/my_bookings.html", upcoming=upcoming, past=past, codes=check_in_codes(upcoming),
        completions=queries.training_recorded_by(current_user),
        interests=interests_of(current_user), can_change=queries.can_change, has_online_courses=queries.has_online_courses(),
        programme_url=url_for("courses.programme"),
        feed_url=url_for("bookings.calendar_feed", token=current_user.calendar_token, _external=True),
    )


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@signed_in
def cancel(booking_id: int):
    booking = _own_booking_or_404(booking_id)
    if not queries.can_change(booking):
        flash("This booking can no longer be cancelled here. Contact the L&D team if you need help.", "error")
        return redirect(url_for("bookings.my_bookings"))
    form = BookingCancelForm()
    was_waiting = booking.status == WAITING
    if was_waiting:
        form.submit.label.text = "Leave the waiting list"
    if form.validate_on_submit():
        leaving = form.leaving.data == WAITING
        with refusals() as attempt:
            booking = cancel_booking(booking, current_user, form.reason.data or "",
                                     leaving_waiting_list=leaving)
            late = booking.late_cancellation
        if attempt.refused:
            return redirect(url_for("bookings.my_bookings"))
        if late:
            flash("Your booking is cancelled. It was inside the notice period, so it counts as a late "
                  "cancellation and may be charged to your agency.", "success")
        else:
            flash("You have left the waiting list." if leaving else "Your booking is cancelled.", "success")
        return redirect(url_for("bookings.my_bookings"))
    if was_waiting:
        form.leaving.data = WAITING
    return render_template(
        "bookings/cancel.html", booking=booking, session=booking.session, form=form, was_waiting=was_waiting,
        late=booking.status == CONFIRMED and is_late_cancellation(booking.session),
        deadline=cancellation_deadline(booking.session.starts_at, booking.session.course.cancellation_notice_days),
    )


@bp.route("/bookings/<int:booking_id>/substitute", methods=["GET", "POST"])
@limited("RATELIMIT_COLLEAGUE_LOOKUP", key_func=per_person)
@signed_in
def substitute(booking_id: int):
    booking = _own_booking_or_404(booking_id)
    if not queries.can_change(booking) or booking.status not in HOLDS_PLACE:
        flash("Only a place you hold on a session that has not started can be passed to a colleague.", "error")
        return redirect(url_for("bookings.my_bookings"))
    form = BookingSubstituteForm()
    if form.validate_on_submit():
        colleague = queries.find_person(form.email.data)
        with refusals(form) as attempt:
            new = substitute_colleague(booking, colleague, current_user)
        if not attempt.refused:
            flash(f"Your place has passed to {new.user.name}. We have e-mailed you both.", "success")
            return redirect(url_for("bookings.my_bookings"))
    return render_template("bookings/substitute.html", booking=booking, session=booking.session, form=form)


# ---------------------------------------------------------------- calendar feed


@bp.route("/calendar/<token>.ics")
@public
def calendar_feed(token: str):
    person = queries.person_with_calendar(token)
    if person is None:
        abort(404)
    body = personal_feed(queries.calendar_entries(person),
                         f"{current_app.config['SERVICE_NAME']}: {person.name}")
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'inline; filename="training.ics"',
        "Cache-Control": "private, max-age=900",
    })


@bp.route("/my-bookings/calendar/reset", methods=["POST"])
@signed_in
def reset_calendar():
    reset_calendar_token(current_user)
    db.session.commit()
    flash("Your calendar address has changed. The old one no longer works: subscribe again with the new one.",
          "success")
    return redirect(url_for("bookings.my_bookings") + "#calendar")


# ---------------------------------------------------------------- the line manager's answer


@bp.route("/approvals/<token>", methods=["GET", "POST"])
@public
def approval(token: str):
    # GET only shows the question: e-mail link scanners open links, and must not answer for anyone.
    try:
        booking, decision = approvals.booking_for_approval(token)
    except LinkError as exc:
        return render_template("bookings/approval_problem.html", message=exc.message), 400
    problem = approval_problem(booking)
    form = ApprovalAnswerForm()
    if problem is None and form.validate_on_submit():
        with refusals(show=False) as attempt:
            answer_approval(booking, decision, form.reason.data or "")
        if not attempt.refused:
            return render_template("bookings/approval_done.html", booking=booking, decision=decision)
        problem = attempt.message
    return render_template("bookings/approval.html", booking=booking, decision=decision, form=form,
                           problem=problem, session=booking.session, agree=approvals.AGREE)


# ---------------------------------------------------------------- online completions


def _offer_courses(form, courses: list[Course]) -> None:
    form.course_id.choices = [(0, "Choose a course")] + [(c.id, c.title) for c in courses]


def _chosen_course(form) -> Course | None:
    return db.session.get(Course, form.course_id.data) if form.course_id.data else None


@bp.route("/my-training/online", methods=["GET", "POST"])
@signed_in
def record_completion():
    courses = queries.online_courses()
    form = CompletionRecordForm()
    _offer_courses(form, courses)
    if form.validate_on_submit():
        course = _chosen_course(form)
        with refusals(form) as attempt:
            completions.record_completion(current_user, course, form.completed_on.data,
                                          form.evidence.data or "", current_user)
        if not attempt.refused:
            flash(f"Recorded: you completed {course.title}.", "success")
            return redirect(url_for("bookings.my_bookings") + "#training")
    return render_template("bookings/record_completion.html", form=form, courses=courses)


@bp.route("/my-training/elsewhere", methods=["GET", "POST"])
@signed_in
def record_prior_learning():
    form = PriorLearningRecordForm()
    _offer_courses(form, queries.current_courses())
    if form.validate_on_submit():
        course = _chosen_course(form)
        upload = form.certificate.data
        certificate = None
        if upload is not None and getattr(upload, "filename", ""):
            # One byte more than allowed is enough to refuse a file that is too big.
            certificate = (upload.filename, upload.stream.read(completions.CERTIFICATE_MAX_BYTES + 1))
        with refusals(form) as attempt:
            completions.record_prior_learning(current_user, course, form.provider.data or "",
                                              form.completed_on.data, form.evidence.data or "", current_user,
                                              certificate=certificate)
        if not attempt.refused:
            flash(f"Sent for checking: your training equivalent to {course.title}. We will e-mail you "
                  "when the L&D team has checked it.", "success")
            return redirect(url_for("bookings.my_bookings") + "#training")
    return render_template("bookings/record_prior_learning.html", form=form)


@bp.route("/completions/<int:completion_id>/certificate")
@signed_in
def completion_certificate(completion_id: int):
    completion = db.session.get(Completion, completion_id)
    if (completion is None or not completion.certificate_name
            or (completion.user_id != current_user.id and not current_user.has_role(ADMIN))):
        abort(404)
    if completion.user_id != current_user.id:
        record_access("completions", subject_user_id=completion.user_id,
                      scope=f"completion {completion.id}")
    response = Response(completion.certificate_data, mimetype=completion.certificate_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{completion.certificate_name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- the L&D team


@bp.route("/admin/bookings")
@requires(ADMIN)
def admin_sessions():
    show_past = request.args.get("past") == "1"
    now = utcnow()
    sessions = queries.admin_sessions(show_past, now)
    availability = availability_for(sessions, now)
    waiting = queries.waiting_counts(sessions)
    rows = [
        {"session": s, "availability": availability[s.id], "waiting": waiting.get(s.id, 0),
         "state": PLACE_STATE_LABELS[booking_state(s, availability[s.id], now)]}
        for s in sessions
    ]
    return render_template("bookings/admin_sessions.html", rows=rows, show_past=show_past)


@bp.route("/admin/sessions/<int:session_id>/bookings", methods=["GET", "POST"])
@requires(ADMIN)
def admin_session_bookings(session_id: int):
    session = _session_or_404(session_id)
    form = AdminBookForm()
    if form.validate_on_submit():
        person = queries.find_person(form.email.data)
        if person is None:
            form.email.errors = list(form.email.errors) + ["There is no account with that e-mail address"]
        else:
            with refusals(form, field="email") as attempt:
                booking = book_place(session, person, current_user, on_behalf=True,
                                     overbook=form.overbook.data,
                                     manager_agreed=form.manager_agreed.data,
                                     prerequisite_override=form.prerequisite_override.data or "")
            if not attempt.refused:
                if booking.status == WAITING:
                    flash(f"The session is full for {person.name}, so they are on the waiting list. "
                          "Tick ‘overbook’ to give them a place anyway.", "info")
                else:
                    flash(f"{person.name} is booked ({booking.state_label.lower()})"
                          + (", over capacity" if booking.overbooked else "") + ".", "success")
                return redirect(url_for("bookings.admin_session_bookings", session_id=session.id))
    availability = availability_for([session])[session.id]
    record_access("bookings", scope=f"session {session.id}")
    return render_template(
        "bookings/admin_session_bookings.html", session=session, course=session.course, form=form,
        availability=availability, release_at=release_moment(session),
        holding=queries.bookings_on(session, HOLDS_PLACE),
        waiting=queries.waiting_list(session),
        others=[b for b in queries.bookings_on(session, ("cancelled", "declined", "lapsed", "transferred"))],
        active_count=len(queries.bookings_on(session, ACTIVE_STATES)),
        session_cancelled=session.status == SESSION_CANCELLED,
        session_page=_session_page(session),
    )


@bp.route("/admin/sessions/<int:session_id>/bookings/cancel-all", methods=["POST"])
@requires(ADMIN)
def admin_cancel_session_bookings(session_id: int):
    session = _session_or_404(session_id)
    with refusals() as attempt:
        count = cancel_session_bookings(session, current_user)
    if not attempt.refused:
        flash(f"{count} booking{'s' if count != 1 else ''} cancelled; everyone has been told.", "success")
    return redirect(url_for("bookings.admin_session_bookings", session_id=session_id))


def _admin_booking_or_404(booking_id: int) -> Booking:
    return db.session.get(Booking, booking_id) or abort(404)


def _admin_booking_in(booking_id: int, states: tuple[str, ...], refusal: str) -> tuple[Booking, str]:
    """The booking the L&D team is changing and its session's bookings page to go back to; if the
    booking is no longer in one of `states`, go back there at once, saying `refusal`."""
    booking = _admin_booking_or_404(booking_id)
    back = url_for("bookings.admin_session_bookings", session_id=booking.session_id)
    if booking.status not in states:
        flash(refusal, "error")
        abort(redirect(back))
    return booking, back


@bp.route("/admin/bookings/<int:booking_id>")
@requires(ADMIN)
def admin_booking(booking_id: int):
    booking = _admin_booking_or_404(booking_id)
    record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template("bookings/admin_booking.html", booking=booking, session=booking.session,
                           labels=STATE_LABELS)


@bp.route("/admin/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@requires(ADMIN)
def admin_cancel(booking_id: int):
    booking, back = _admin_booking_in(booking_id, ACTIVE_STATES,
                                      "This booking is not active, so there is nothing to cancel.")
    form = BookingCancelForm()
    form.reason.label.text = "Reason (optional)"
    form.reason.description = "Recorded in the booking’s history and told to the person."
    if form.validate_on_submit():
        with refusals() as attempt:
            cancel_booking(booking, current_user, form.reason.data or "")
        if not attempt.refused:
            flash(f"{booking.user.name}’s booking is cancelled and they have been told.", "success")
        return redirect(back)
    record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template(
        "bookings/admin_cancel.html", booking=booking, session=booking.session, form=form, back=back,
        late=booking.status == CONFIRMED and is_late_cancellation(booking.session),
    )


@bp.route("/admin/bookings/<int:booking_id>/move", methods=["GET", "POST"])
@requires(ADMIN)
def admin_move(booking_id: int):
    booking, back = _admin_booking_in(booking_id, ACTIVE_STATES, "This booking is not active, so it cannot be moved.")
    targets = queries.sessions_for_moving(booking)
    availability = availability_for(targets)
    form = AdminMoveForm()
    form.session_id.choices = [(0, "Choose a session")] + [
        (s.id, f"{s.starts_at:%d/%m/%Y} – {s.venue.name if s.venue else 'Online'} "
               f"({availability[s.id].left} place{'s' if availability[s.id].left != 1 else ''} left)")
        for s in targets
    ]
    if form.validate_on_submit():
        target = db.session.get(Session, form.session_id.data) if form.session_id.data else None
        if target is None:
            form.session_id.errors = list(form.session_id.errors) + ["Choose the session to move them to"]
        else:
            with refusals(form) as attempt:
                new = move_booking(booking, target, current_user, overbook=form.overbook.data)
            if not attempt.refused:
                flash(f"{new.user.name} has been moved and told.", "success")
                return redirect(url_for("bookings.admin_session_bookings", session_id=new.session_id))
    record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template("bookings/admin_move.html", booking=booking, session=booking.session, form=form,
                           back=back, targets=targets)


@bp.route("/admin/bookings/<int:booking_id>/promote", methods=["GET", "POST"])
@requires(ADMIN)
def admin_promote(booking_id: int):
    booking = _admin_booking_or_404(booking_id)
    back = url_for("bookings.admin_session_bookings", session_id=booking.session_id)
    if booking.status != WAITING:
        flash(f"{booking.user.name} is not on the waiting list.", "error")
        return redirect(back)
    form = AdminPromoteForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            promote_booking(booking, current_user, overbook=form.overbook.data,
                            manager_agreed=form.manager_agreed.data)
        if not attempt.refused:
            flash(f"{booking.user.name} has been given a place and told.", "success")
            return redirect(back)
    availability = availability_for([booking.session])[booking.session_id]
    has_place = queries.free_place(availability, booking)[0]
    record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template("bookings/admin_promote.html", booking=booking, session=booking.session,
                           form=form, back=back, has_place=has_place)


@bp.route("/admin/completions")
@requires(ADMIN)
def admin_completions():
    show = request.args.get("show", "unchecked")
    record_access("completions")
    return render_template("bookings/admin_completions.html",
                           completions=queries.completions_to_check(show_all=show == "all"), show=show)


@bp.route("/admin/completions/<int:completion_id>/check", methods=["POST"])
@requires(ADMIN)
def admin_check_completion(completion_id: int):
    completion = db.session.get(Completion, completion_id) or abort(404)
    with refusals() as attempt:
        completions.check_completion(completion, current_user)
    if not attempt.refused:
        flash(f"{completion.user.name}’s {completion.course.title} is marked as checked.", "success")
    return redirect(url_for("bookings.admin_completions"))


@bp.route("/admin/completions/<int:completion_id>/decide", methods=["GET", "POST"])
@requires(ADMIN)
def admin_decide_completion(completion_id: int):
    completion = db.session.get(Completion, completion_id)
    if completion is None or completion.source != PRIOR_LEARNING:
        abort(404)
    form = PriorLearningDecisionForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            completions.decide_prior_learning(completion, form.decision.data == "accept", form.note.data or "",
                                              current_user)
        if not attempt.refused:
            word = "accepted" if form.decision.data == "accept" else "not accepted"
            flash(f"{completion.user.name}’s training is {word} as {completion.course.title}. "
                  "We have e-mailed them.", "success")
            return redirect(url_for("bookings.admin_completions"))
    record_access("completions", subject_user_id=completion.user_id,
                  scope=f"completion {completion.id}")
    return render_template("bookings/admin_decide_completion.html", completion=completion, form=form)

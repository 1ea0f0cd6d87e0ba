"""Registers: trainers' sessions, marking attendance, walk-ins, and administrators' corrections."""
from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, TRAINER, requires
from app.accounts.models import Agency, User
from app.attendance import bp, pdfs, queries
from app.attendance.forms import OutcomeCorrectForm, ReasonForm, WalkInNewPersonForm, WalkInSearchForm
from app.attendance.charges import charge_for
from app.attendance.completions import counts_as_complete
from app.attendance.dates import first_day, session_days
from app.attendance.outcomes import correct_outcome, mark_all_attended, mark_register
from app.attendance.register import booking_agency, can_view_register, marking_refusal, marking_window, register_bookings, surname
from app.attendance.walk_ins import SEARCH_MAX_PEOPLE, add_walk_in, find_people, register_walk_in
from app.bookings.models import OUTCOME_LABELS, Booking
from app.clock import day_start_utc, today_london
from app.courses.models import DRAFT, Session
from app.exports import csv_download, file_slug, pdf_download
from app.extensions import db
from app.inputs import query_page, whole_number
from app.refusals import refusals

PAGE_SIZE = 50


@bp.app_template_filter("days_text")
def _days_text(days: list[date]) -> str:
    return pdfs.days_text(days)


@bp.route("/registers")
@requires(TRAINER, ADMIN)
def trainer_sessions():
    show = "past" if request.args.get("show") == "past" else "current"
    # Sessions stay under "current" until marking closes for them.
    cutoff = day_start_utc(today_london() - timedelta(days=current_app.config["ATTENDANCE_MARKING_DAYS"]))
    trainer = None if current_user.has_role(ADMIN) else current_user
    sessions = db.paginate(queries.trainer_sessions(trainer, show == "past", cutoff), page=query_page(),
                           per_page=PAGE_SIZE, error_out=False)
    counts = queries.register_counts([s.id for s in sessions.items])
    return render_template("attendance/trainer_sessions.html", sessions=sessions, counts=counts,
                           show=show)


def _session_for_register(session_id: int) -> Session:
    session = db.session.get(Session, session_id) or abort(404)
    if session.status == DRAFT:
        abort(404)
    if not can_view_register(session, current_user):
        abort(403)
    return session


def _register_file(session: Session, kind: str, extension: str) -> str:
    day = first_day(session)
    return f"{kind}-{file_slug(session.course.title)}-{day.isoformat() if day else session.id}.{extension}"


@bp.route("/registers/<int:session_id>")
@requires(TRAINER, ADMIN)
def register(session_id: int):
    session = _session_for_register(session_id)
    bookings = register_bookings(session)
    opens, closes = marking_window(session)
    record_access("register", scope=f"session {session.id}")
    return render_template(
        "attendance/register.html", session=session, bookings=bookings,
        refusal=marking_refusal(session, current_user), opens=opens, closes=closes,
        outcome_labels=OUTCOME_LABELS, days=session_days(session),
    )


@bp.route("/registers/<int:session_id>/mark", methods=["POST"])
@requires(TRAINER, ADMIN)
def mark(session_id: int):
    session = _session_for_register(session_id)
    marks = {}
    for key, value in request.form.items():
        if key.startswith("outcome-") and value:
            booking_id = whole_number(key.removeprefix("outcome-"))
            if booking_id is None:
                abort(400)
            marks[booking_id] = value
    # The walk-in and "mark everyone" buttons submit this form too, so chosen marks are kept.
    then = request.form.get("then")
    with refusals() as attempt:
        changed = mark_register(session, marks, current_user)
        everyone = mark_all_attended(session, current_user) if then == "all-attended" else 0
    if attempt.refused:
        return redirect(url_for("attendance.register", session_id=session.id))
    parts = []
    if changed or then != "all-attended":
        parts.append(f"Register saved: {changed} {'change' if changed == 1 else 'changes'}.")
    if then == "all-attended":
        parts.append(f"{everyone} {'person' if everyone == 1 else 'people'} marked as attended. "
                     "Change anyone who did not come, then save.")
    on_register, marked = queries.register_counts([session.id]).get(session.id, (0, 0))
    unmarked = on_register - marked
    if unmarked:
        parts.append(f"{unmarked} not marked yet.")
    message = " ".join(parts)
    if then == "walk-in":
        if changed:
            flash(message, "success")
        return redirect(url_for("attendance.walk_in", session_id=session.id))
    flash(message, "success")
    return redirect(url_for("attendance.register", session_id=session.id))


def _register_rows(bookings: list[Booking]) -> list[list]:
    rows = []
    for booking in bookings:
        agency = booking_agency(booking)
        person = booking.user
        rows.append([
            surname(person.name), person.name, person.email, agency.name if agency else "",
            agency.sector.name if agency and agency.sector else "", person.job_title,
            booking.access_needs, "Yes" if booking.walk_in else "No", booking.outcome_label,
        ])
    return rows


@bp.route("/registers/<int:session_id>.csv")
@requires(TRAINER, ADMIN)
def register_csv(session_id: int):
    session = _session_for_register(session_id)
    header = ["Surname", "Name", "E-mail", "Agency", "Sector", "Job title",
              "Access or dietary needs", "Walk-in", "Attendance", "Course", "Course code",
              "First day", "Last day"]
    days = session_days(session)
    rows = [row + [session.course.title, session.course.code, days[0] if days else None,
                   days[-1] if days else None]
            for row in _register_rows(register_bookings(session))]
    record_access("register", scope=f"session {session.id}")
    return csv_download(_register_file(session, "register", "csv"), header, rows)


@bp.route("/registers/<int:session_id>.pdf")
@requires(TRAINER, ADMIN)
def register_pdf(session_id: int):
    session = _session_for_register(session_id)
    data = pdfs.sign_in_sheet(session, register_bookings(session))
    record_access("register", scope=f"session {session.id}")
    return pdf_download(data, _register_file(session, "sign-in", "pdf"))


@bp.route("/registers/<int:session_id>/walk-in", methods=["GET", "POST"])
@requires(TRAINER, ADMIN)
def walk_in(session_id: int):
    session = _session_for_register(session_id)
    refusal = marking_refusal(session, current_user)
    search = WalkInSearchForm(request.args)
    results = []
    if request.args.get("q") is not None and search.validate():
        results = find_people(search.q.data)
    if results:  # the people found (the search words, maybe a name, are not kept)
        record_access("walk_in_search", scope=f"session {session.id}")
    on_register = {b.user_id for b in register_bookings(session)}
    form = WalkInNewPersonForm()
    form.agency_id.choices = [(0, "Choose the agency")] + [(a.id, a.name) for a in queries.active_agencies()]
    if request.method == "POST" and form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
        with refusals(form) as attempt:
            booking = register_walk_in(session, current_user, name=form.name.data,
                                       email=form.email.data, job_title=form.job_title.data,
                                       agency=agency)
        if not attempt.refused:
            flash(f"{booking.user.name} is on the register as a walk-in who attended. They can set "
                  "a password with ‘Forgotten your password?’ to see their training record.", "success")
            return redirect(url_for("attendance.register", session_id=session.id))
    return render_template("attendance/walk_in.html", session=session, search=search,
                           results=results, form=form, refusal=refusal, on_register=on_register,
                           searched=request.args.get("q") is not None, search_limit=SEARCH_MAX_PEOPLE)


@bp.route("/registers/<int:session_id>/walk-in/<int:user_id>", methods=["POST"])
@requires(TRAINER, ADMIN)
def walk_in_existing(session_id: int, user_id: int):
    session = _session_for_register(session_id)
    person = db.session.get(User, user_id) or abort(404)
    with refusals() as attempt:
        add_walk_in(session, person, current_user)
    if attempt.refused:
        return redirect(url_for("attendance.walk_in", session_id=session.id))
    flash(f"{person.name} is on the register as a walk-in who attended.", "success")
    return redirect(url_for("attendance.register", session_id=session.id))


@bp.route("/attendance/bookings/<int:booking_id>", methods=["GET", "POST"])
@requires(ADMIN)
def correct(booking_id: int):
    booking = db.session.get(Booking, booking_id) or abort(404)
    form = OutcomeCorrectForm()
    if request.method == "GET":
        form.outcome.data = booking.outcome or "none"
        form.counts_as_complete.data = counts_as_complete(booking)
    if form.validate_on_submit():
        outcome = None if form.outcome.data == "none" else form.outcome.data
        with refusals(form) as attempt:
            changed = correct_outcome(booking, outcome, current_user, form.reason.data,
                                      counts_as_complete=form.counts_as_complete.data)
        if not attempt.refused:
            flash("Correction saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("attendance.correct", booking_id=booking.id))
    record_access("booking", subject_user_id=booking.user_id, scope=f"booking {booking.id}")
    return render_template(
        "attendance/correct.html", booking=booking, form=form, events=queries.booking_events(booking),
        charge=charge_for(booking), waive_form=ReasonForm(prefix="waive"),
        complete=counts_as_complete(booking), outcome_labels=OUTCOME_LABELS,
        agency=booking_agency(booking),
    )

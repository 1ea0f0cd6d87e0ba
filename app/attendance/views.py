"""Registers, attendance marking, training records, certificates, agencies' staff and charges."""
from __future__ import annotations

import re
from datetime import date, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts.access import ADMIN, COORDINATOR, TRAINER, public, requires, signed_in
from app.accounts.models import Agency, User
from app.attendance import bp, pdfs, queries
from app.attendance.certificates import certificate_refusals, issue_certificate, verify_certificate
from app.attendance.charges import charge_for, reinstate_charge, waive_charge
from app.attendance.completions import counts_as_complete
from app.attendance.dates import day_start_utc, first_day, session_days
from app.attendance.forms import (
    CertificateVerifyForm,
    OutcomeCorrectForm,
    PeriodFilterForm,
    ReasonForm,
    WalkInNewPersonForm,
    WalkInSearchForm,
)
from app.attendance.models import CHARGE_STATUS_LABELS, Charge, Suspension
from app.attendance.outcomes import correct_outcome, mark_all_attended, mark_register
from app.attendance.register import (
    booking_agency,
    can_view_register,
    marking_refusal,
    marking_window,
    register_bookings,
    surname,
)
from app.attendance.suspensions import active_suspension, lift_suspension
from app.attendance.walk_ins import SEARCH_MAX_PEOPLE, add_walk_in, find_people, register_walk_in
from app.bookings.models import (
    CANCELLED,
    CONFIRMED,
    OUTCOME_LABELS,
    Booking,
    BookingEvent,
)
from app.clock import today_london
from app.courses.models import DRAFT, PUBLISHED, Session, session_trainers
from app.evaluation.services import outstanding_evaluations
from app.exports import csv_download, pdf_download
from app.extensions import db
from app.refusals import refusals
from app.inputs import query_int, query_page, whole_number
from app.urls import external_url

PAGE_SIZE = 50


@bp.app_template_filter("days_text")
def _days_text(days: list[date]) -> str:
    return pdfs.days_text(days)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "file"


# ---------------------------------------------------------------- trainers: sessions and registers


@bp.route("/registers")
@requires(TRAINER, ADMIN)
def trainer_sessions():
    show = "past" if request.args.get("show") == "past" else "current"
    page = query_page()
    # Sessions stay under "current" until marking closes for them.
    cutoff = day_start_utc(today_london() - timedelta(days=current_app.config["ATTENDANCE_MARKING_DAYS"]))
    query = select(Session).where(Session.status == PUBLISHED, Session.starts_at.is_not(None))
    if not current_user.has_role(ADMIN):
        query = query.join(session_trainers, session_trainers.c.session_id == Session.id).where(
            session_trainers.c.user_id == current_user.id)
    ended = func.coalesce(Session.ends_at, Session.starts_at)
    if show == "past":
        query = query.where(ended < cutoff).order_by(Session.starts_at.desc())
    else:
        query = query.where(ended >= cutoff).order_by(Session.starts_at)
    sessions = db.paginate(query.options(selectinload(Session.parts)), page=page,
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


@bp.route("/registers/<int:session_id>")
@requires(TRAINER, ADMIN)
def register(session_id: int):
    session = _session_for_register(session_id)
    bookings = register_bookings(session)
    opens, closes = marking_window(session)
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
    unmarked = sum(1 for b in register_bookings(session) if b.outcome is None)
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
    day = first_day(session)
    header = ["Surname", "Name", "E-mail", "Agency", "Sector", "Job title",
              "Access or dietary needs", "Walk-in", "Attendance", "Course", "Course code",
              "First day", "Last day"]
    days = session_days(session)
    rows = [row + [session.course.title, session.course.code, days[0] if days else None,
                   days[-1] if days else None]
            for row in _register_rows(register_bookings(session))]
    name = f"register-{_slug(session.course.title)}-{day.isoformat() if day else session.id}.csv"
    return csv_download(name, header, rows)


@bp.route("/registers/<int:session_id>.pdf")
@requires(TRAINER, ADMIN)
def register_pdf(session_id: int):
    session = _session_for_register(session_id)
    day = first_day(session)
    data = pdfs.sign_in_sheet(session, register_bookings(session))
    name = f"sign-in-{_slug(session.course.title)}-{day.isoformat() if day else session.id}.pdf"
    return pdf_download(data, name)


def _agency_choices() -> list[tuple[int, str]]:
    agencies = db.session.scalars(select(Agency).where(Agency.active.is_(True)).order_by(Agency.name))
    return [(0, "Choose the agency")] + [(a.id, a.name) for a in agencies]


@bp.route("/registers/<int:session_id>/walk-in", methods=["GET", "POST"])
@requires(TRAINER, ADMIN)
def walk_in(session_id: int):
    session = _session_for_register(session_id)
    refusal = marking_refusal(session, current_user)
    search = WalkInSearchForm(request.args)
    results = []
    if request.args.get("q") is not None and search.validate():
        results = find_people(search.q.data)
    on_register = {b.user_id for b in register_bookings(session)}
    form = WalkInNewPersonForm()
    form.agency_id.choices = _agency_choices()
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


# ---------------------------------------------------------------- administrators: corrections


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
    events = db.session.scalars(
        select(BookingEvent).where(BookingEvent.booking_id == booking.id).order_by(BookingEvent.id)
    ).all()
    return render_template(
        "attendance/correct.html", booking=booking, form=form, events=events,
        charge=charge_for(booking), waive_form=ReasonForm(prefix="waive"),
        complete=counts_as_complete(booking), outcome_labels=OUTCOME_LABELS,
        agency=booking_agency(booking),
    )


# ---------------------------------------------------------------- learners: training record and certificates


def _record_rows():
    rows = queries.training_record(current_user)
    return rows, queries.total_hours(rows)


@bp.route("/my-training")
@signed_in
def training_record():
    rows, total = _record_rows()
    attended = db.session.scalars(
        select(Booking).join(Session, Session.id == Booking.session_id)
        .where(Booking.user_id == current_user.id, Booking.status == CONFIRMED,
               Booking.outcome.is_not(None))
        .order_by(Session.starts_at.desc())
    ).all()
    certificates = [(b, certificate_refusals(b)) for b in attended]
    return render_template("attendance/training_record.html", rows=rows, total=total,
                           certificates=certificates, suspension=active_suspension(current_user))


@bp.route("/my-training.csv")
@signed_in
def training_record_csv():
    rows, _total = _record_rows()
    header = ["Course", "Course code", "Level", "Completed on", "Hours", "How", "Refresher due",
              "Refresher"]
    data = [[r.course.title, r.course.code, r.level, r.completed_on, r.hours, r.source_label,
             r.refresher_due, r.refresher_state] for r in rows]
    return csv_download(f"training-record-{_slug(current_user.name)}.csv", header, data)


@bp.route("/my-training.pdf")
@signed_in
def training_record_pdf():
    rows, total = _record_rows()
    data = pdfs.training_record(current_user, rows, total, today_london())
    return pdf_download(data, f"training-record-{_slug(current_user.name)}.pdf")


def _own_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.user_id != current_user.id:
        abort(404)
    return booking


@bp.route("/my-training/certificates/<int:booking_id>")
@signed_in
def certificate(booking_id: int):
    booking = _own_booking(booking_id)
    return render_template("attendance/certificate.html", booking=booking,
                           refusals=certificate_refusals(booking), days=session_days(booking.session))


@bp.route("/my-training/certificates/<int:booking_id>.pdf")
@signed_in
def certificate_pdf(booking_id: int):
    booking = _own_booking(booking_id)
    if certificate_refusals(booking):
        return redirect(url_for("attendance.certificate", booking_id=booking.id))
    issued = issue_certificate(booking)  # made when attendance was marked: this only reads
    data = pdfs.certificate(booking, issued.code, external_url("attendance.verify"))
    return pdf_download(data, f"certificate-{_slug(booking.session.course.title)}.pdf")


@bp.route("/certificates/verify")
@public
def verify():
    form = CertificateVerifyForm(request.args)
    result = None
    checked = False
    if request.args.get("code") is not None and form.validate():
        checked = True
        result = verify_certificate(form.code.data)
    return render_template("attendance/verify.html", form=form, result=result, checked=checked,
                           days=session_days(result.booking.session) if result else [])


# ---------------------------------------------------------------- agency coordinators


def _allowed_agency_ids() -> set[int] | None:
    """The agencies the person may see (None: every agency, for administrators)."""
    return None if current_user.has_role(ADMIN) else set(current_user.coordinated_agency_ids)


def _filters(with_agency: bool = True) -> tuple[PeriodFilterForm, Agency | None, date, date, int | None]:
    """Read the period, course and agency filters; refuse an agency the person does not coordinate."""
    form = PeriodFilterForm(request.args)
    allowed = _allowed_agency_ids()
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    visible = [a for a in agencies if allowed is None or a.id in allowed]
    form.agency_id.choices = ([(0, "Choose an agency")] if allowed is None else []) + [
        (a.id, a.name) for a in visible]
    form.course_id.choices = [(0, "All courses")] + [(c.id, c.title) for c in queries.courses_for_filter()]
    form.validate()
    requested = query_int("agency_id")
    if requested:
        if allowed is not None and requested not in allowed:
            abort(403)
        agency = db.session.get(Agency, requested) or abort(404)
    elif allowed is not None:
        if not visible:
            abort(403)
        agency = visible[0]
    else:
        agency = None
    if agency is not None:
        form.agency_id.data = agency.id
    default_start, default_end = queries.default_period()
    start = form.start.data if not form.start.errors and form.start.data else default_start
    end = form.end.data if not form.end.errors and form.end.data else default_end
    if end < start:
        form.end.errors = list(form.end.errors) + ["The end date must be on or after the start date"]
        start, end = default_start, default_end
    form.start.data, form.end.data = start, end
    course_id = form.course_id.data if form.course_id.data and not form.course_id.errors else None
    if not with_agency:
        agency = None
    return form, agency, start, end, course_id


def _filter_args(agency: Agency | None, start: date, end: date, course_id: int | None) -> dict:
    args = {"start": start.isoformat(), "end": end.isoformat()}
    if agency is not None:
        args["agency_id"] = agency.id
    if course_id:
        args["course_id"] = course_id
    return args


@bp.route("/agency")
@requires(COORDINATOR, ADMIN)
def agency_home():
    form, agency, start, end, course_id = _filters()
    context = {"form": form, "agency": agency, "start": start, "end": end}
    if agency is not None:
        bookings = queries.agency_bookings(agency, start, end, course_id)
        context.update(
            bookings=bookings, summary=queries.summarise(bookings),
            refreshers=queries.agency_refreshers(agency, course_id),
            suspensions=queries.agency_suspensions(agency),
            evaluations=outstanding_evaluations(agency.id),
            args=_filter_args(agency, start, end, course_id),
        )
    return render_template("attendance/agency_home.html", **context)


@bp.route("/agency/bookings.csv")
@requires(COORDINATOR, ADMIN)
def agency_bookings_csv():
    _form, agency, start, end, course_id = _filters()
    if agency is None:
        abort(404)
    header = ["Name", "E-mail", "Job title", "Course", "Course code", "First day", "Booking",
              "Late cancellation", "Walk-in", "Attendance"]
    rows = []
    for booking in queries.agency_bookings(agency, start, end, course_id):
        days = session_days(booking.session)
        rows.append([booking.user.name, booking.user.email, booking.user.job_title,
                     booking.session.course.title, booking.session.course.code,
                     days[0] if days else None, booking.state_label,
                     booking.status == CANCELLED and booking.late_cancellation, booking.walk_in,
                     booking.outcome_label])
    return csv_download(f"bookings-{_slug(agency.name)}-{start}-to-{end}.csv", header, rows)


CHARGE_HEADER = ["Agency", "Name", "E-mail", "Course", "Course code", "Date", "Reason",
                 "Amount (GBP)", "Status", "Waiver reason", "Charge reference"]


def _charge_rows(charges: list[Charge]) -> list[list]:
    return [[c.agency.name if c.agency else "", c.user.name, c.user.email, c.course.title,
             c.course.code, c.incurred_on, c.reason_label, f"{c.amount_pence / 100:.2f}",
             c.status_label, c.waiver_reason, f"CH-{c.id:06d}"] for c in charges]


@bp.route("/agency/charges")
@requires(COORDINATOR, ADMIN)
def agency_charges():
    form, agency, start, end, course_id = _filters()
    charges = queries.charges_statement(start, end, {agency.id}) if agency else []
    return render_template("attendance/agency_charges.html", form=form, agency=agency, start=start,
                           end=end, charges=charges, totals=queries.charge_totals(charges),
                           args=_filter_args(agency, start, end, None) if agency else {})


@bp.route("/agency/charges.csv")
@requires(COORDINATOR, ADMIN)
def agency_charges_csv():
    _form, agency, start, end, _course_id = _filters()
    if agency is None:
        abort(404)
    charges = queries.charges_statement(start, end, {agency.id})
    return csv_download(f"charges-{_slug(agency.name)}-{start}-to-{end}.csv", CHARGE_HEADER,
                        _charge_rows(charges))


# ---------------------------------------------------------------- administrators: charges and suspensions


@bp.route("/charges")
@requires(ADMIN)
def charges():
    form, _agency, start, end, _course_id = _filters(with_agency=False)
    status = request.args.get("status", "")
    statement = queries.charges_statement(start, end)
    if status in CHARGE_STATUS_LABELS:
        statement = [c for c in statement if c.status == status]
    return render_template(
        "attendance/charges.html", form=form, start=start, end=end, charges=statement,
        totals=queries.charge_totals(statement), by_agency=queries.charge_totals_by_agency(statement),
        status=status, args={"start": start.isoformat(), "end": end.isoformat()},
        waive_form=ReasonForm(prefix="waive"),
    )


@bp.route("/charges.csv")
@requires(ADMIN)
def charges_csv():
    _form, _agency, start, end, _course_id = _filters(with_agency=False)
    statement = queries.charges_statement(start, end)
    status = request.args.get("status", "")
    if status in CHARGE_STATUS_LABELS:
        statement = [c for c in statement if c.status == status]
    return csv_download(f"charges-all-agencies-{start}-to-{end}.csv", CHARGE_HEADER,
                        _charge_rows(statement))


def _back_to(default: str) -> str:
    target = request.form.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.route("/charges/<int:charge_id>/waive", methods=["POST"])
@requires(ADMIN)
def waive(charge_id: int):
    charge = db.session.get(Charge, charge_id) or abort(404)
    form = ReasonForm(prefix="waive")
    back = _back_to(url_for("attendance.correct", booking_id=charge.booking_id))
    if not form.validate_on_submit():
        flash("Say why the charge is waived, for example illness.", "error")
        return redirect(back)
    with refusals() as attempt:
        waive_charge(charge, current_user, form.reason.data)
    if not attempt.refused:
        flash(f"The charge for {charge.user.name} is waived.", "success")
    return redirect(back)


@bp.route("/charges/<int:charge_id>/reinstate", methods=["POST"])
@requires(ADMIN)
def reinstate(charge_id: int):
    charge = db.session.get(Charge, charge_id) or abort(404)
    with refusals() as attempt:
        reinstate_charge(charge, current_user)
    if not attempt.refused:
        flash(f"The charge for {charge.user.name} is due again.", "success")
    return redirect(_back_to(url_for("attendance.correct", booking_id=charge.booking_id)))


@bp.route("/suspensions")
@requires(ADMIN)
def suspensions():
    return render_template("attendance/suspensions.html", active=queries.all_active_suspensions(),
                           lifted=queries.recently_lifted_suspensions(),
                           lift_form=ReasonForm(prefix="lift"))


@bp.route("/suspensions/<int:suspension_id>/lift", methods=["POST"])
@requires(ADMIN)
def lift(suspension_id: int):
    suspension = db.session.get(Suspension, suspension_id) or abort(404)
    form = ReasonForm(prefix="lift")
    if not form.validate_on_submit():
        flash("Say why the suspension is lifted.", "error")
        return redirect(url_for("attendance.suspensions"))
    with refusals() as attempt:
        lift_suspension(suspension, current_user, form.reason.data)
    if not attempt.refused:
        flash(f"{suspension.user.name} can book again; they have been told by e-mail.", "success")
    return redirect(url_for("attendance.suspensions"))

"""A coordinator's agency: its staff's bookings, refreshers, evaluations and suspensions, and its charges."""
from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, COORDINATOR, requires
from app.accounts.models import Agency
from app.attendance.queries import (
    CHARGE_HEADER,
    charge_rows,
    charge_totals,
    charges_statement,
    courses_for_filter,
)
from app.attendance.dates import session_days
from app.bookings.models import CANCELLED
from app.bookings.queries import waiting_positions
from app.evaluation.queries import outstanding_evaluations
from app.exports import csv_download, file_slug
from app.filters import Period, PeriodFilterForm, Viewer, read_period_filters, recent_period
from app.reports import bp, queries


def _filters() -> tuple[PeriodFilterForm, Agency | None, Period, int | None]:
    """The period, agency and course asked for; an administrator sees any agency, a coordinator their own."""
    return read_period_filters(Viewer.of(current_user, sees_all=(ADMIN,)), recent_period(),
                               courses_for_filter())


def _agency_or_404(agency: Agency | None) -> Agency:
    if agency is None:
        abort(404)
    return agency


def _scope(agency: Agency, period: Period) -> str:
    return f"agency {agency.id}, {period.starts_on} to {period.ends_on}"


@bp.route("/agency")
@requires(COORDINATOR, ADMIN)
def agency_home():
    form, agency, period, course_id = _filters()
    context = {"form": form, "agency": agency, "start": period.starts_on, "end": period.ends_on}
    if agency is not None:
        bookings = queries.agency_bookings(agency, period, course_id)
        record_access("agency_staff", scope=_scope(agency, period))
        context.update(
            bookings=bookings, summary=queries.summarise(bookings),
            online=queries.agency_online_completions(agency, period, course_id),
            refreshers=queries.agency_refreshers(agency, course_id),
            suspensions=queries.agency_suspensions(agency),
            evaluations=outstanding_evaluations(agency.id),
            waiting=(waiting := queries.agency_waiting(agency)), positions=waiting_positions(waiting),
            acts_for_staff=agency.id in current_user.coordinated_agency_ids,
            people=queries.agency_people(agency) if agency.id in current_user.coordinated_agency_ids else [],
            args=period.args(agency_id=agency.id, course_id=course_id),
        )
    return render_template("reports/agency_home.html", **context)


@bp.route("/agency/bookings.csv")
@requires(COORDINATOR, ADMIN)
def agency_bookings_csv():
    _form, agency, period, course_id = _filters()
    agency = _agency_or_404(agency)
    header = ["Name", "E-mail", "Job title", "Course", "Course code", "First day", "Booking",
              "Late cancellation", "Walk-in", "Attendance"]
    rows = []
    for booking in queries.agency_bookings(agency, period, course_id):
        days = session_days(booking.session)
        rows.append([booking.user.name, booking.user.email, booking.user.job_title,
                     booking.session.course.title, booking.session.course.code,
                     days[0] if days else None, booking.state_label,
                     booking.status == CANCELLED and booking.late_cancellation, booking.walk_in,
                     booking.outcome_label])
    record_access("agency_staff", scope=_scope(agency, period))
    return csv_download(f"bookings-{file_slug(agency.name)}-{period.starts_on}-to-{period.ends_on}.csv",
                        header, rows)


@bp.route("/agency/charges")
@requires(COORDINATOR, ADMIN)
def agency_charges():
    form, agency, period, _course_id = _filters()
    charges = charges_statement(period.starts_on, period.ends_on, {agency.id}) if agency else []
    if agency is not None:
        record_access("charges", scope=_scope(agency, period))
    return render_template("reports/agency_charges.html", form=form, agency=agency,
                           start=period.starts_on, end=period.ends_on, charges=charges,
                           totals=charge_totals(charges), args=period.args(agency_id=agency.id) if agency else {})


@bp.route("/agency/charges.csv")
@requires(COORDINATOR, ADMIN)
def agency_charges_csv():
    _form, agency, period, _course_id = _filters()
    agency = _agency_or_404(agency)
    charges = charges_statement(period.starts_on, period.ends_on, {agency.id})
    record_access("charges", scope=_scope(agency, period))
    return csv_download(f"charges-{file_slug(agency.name)}-{period.starts_on}-to-{period.ends_on}.csv",
                        CHARGE_HEADER, charge_rows(charges))

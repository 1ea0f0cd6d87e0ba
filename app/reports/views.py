"""Report pages, their drill-downs and exports, and the training needs analysis screens."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.accounts.access import ADMIN, COORDINATOR, REVIEWER, requires
from app.accounts.models import Agency, Sector
from app.bookings.models import OUTCOME_LABELS, STATE_LABELS
from app.bookings.places import availability_for
from app.clock import utcnow
from app.courses.models import Course, Level, Session
from app.extensions import db
from app.exports import percent
from app.inputs import parse_iso_date, query_int, query_page
from app.reports import bp, charts, figures
from app.reports.exports import CSV_TYPE, XLSX_TYPE, Table, to_csv, to_xlsx
from app.reports.forms import GapEmailForm, PeriodForm, TnaForm, TnaImportForm, TnaLineForm
from app.reports.models import PENDING, TnaImport, TnaLine, TrainingNeedsAnalysis
from app.reports.periods import Period, financial_year
from app.reports.services import (
    ImportRefused,
    ReportsError,
    apply_import,
    coordinators_of,
    create_tna,
    current_tna,
    delete_line,
    discard_import,
    email_gap,
    last_reminders,
    preview_import,
    save_line,
    template_csv,
    update_tna,
    upload_tna_import,
)

PAGE_SIZE = 50
PRINT_LIMIT = 5000  # beyond this, the spreadsheet is the better way to read a list
REPORT_ROLES = (ADMIN, REVIEWER, COORDINATOR)
MEASURE_LABELS = {key: label for key, (label, _) in figures.BOOKING_MEASURES.items()}
MEASURE_LABELS.update({"refresher": "Refresher due", "gap": "Behind the gap"})


# --- Shared helpers ------------------------------------------------------------------------------

def _viewer() -> figures.Viewer:
    return figures.Viewer.of(current_user)


def _tna_or_404(tna_id: int) -> TrainingNeedsAnalysis:
    return db.session.get(TrainingNeedsAnalysis, tna_id) or abort(404)


def _date_parts(name: str, day: date | None) -> list[tuple[str, str]]:
    """A date as the day, month and year boxes of the period form would send it."""
    values = [str(day.day), str(day.month), str(day.year)] if day else ["", "", ""]
    return [(name, v) for v in values]


def _read_period(with_tna: bool = False):
    """The report's period (and analysis) from the query string: (form, period or None, tna)."""
    args = request.args
    tnas = db.session.scalars(
        select(TrainingNeedsAnalysis).order_by(TrainingNeedsAnalysis.starts_on.desc())).all()
    tna = None
    if with_tna:
        tna_id = query_int("tna")
        tna = next((t for t in tnas if t.id == tna_id), None) if tna_id else current_tna()
    starts, ends = args.getlist("start"), args.getlist("end")
    if len(starts) > 1 or len(ends) > 1:  # the form's day, month and year boxes
        form = PeriodForm(formdata=args)
    else:
        default = Period(tna.starts_on, tna.ends_on) if tna else financial_year()
        start = parse_iso_date(starts[0]) if starts else None
        end = parse_iso_date(ends[0]) if ends else None
        start, end = start or default.starts_on, end or default.ends_on
        if (starts and parse_iso_date(starts[0]) is None) or (ends and parse_iso_date(ends[0]) is None):
            start = end = None  # a link with a broken date: ask for the dates again
        form = PeriodForm(formdata=MultiDict(_date_parts("start", start) + _date_parts("end", end)))
    form.tna.choices = [(t.id, t.name) for t in tnas]
    if tna is not None:
        form.tna.data = tna.id
    if not form.validate():
        return form, None, tna
    return form, Period(form.start.data, form.end.data), tna


def _filters() -> figures.Filters:
    args = request.args
    return figures.Filters(
        sector_id=query_int("sector"), agency_id=query_int("agency"), course_id=query_int("course"),
        level_id=query_int("level"), session_id=query_int("session"),
    )


def _query_args(period: Period, **extra) -> dict:
    values = period.args()
    values.update({k: v for k, v in extra.items() if v not in (None, "")})
    return values


def _download(report: str, fmt: str, heading: str, tables: list[Table], period: Period) -> Response:
    name = f"{report}-{period.slug}.{fmt}"
    if fmt == "csv":
        body, mimetype = to_csv(heading, tables), CSV_TYPE
    else:
        body, mimetype = to_xlsx(heading, tables), XLSX_TYPE
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _percent(value: int | None) -> str:
    return "" if value is None else f"{value}%"


# --- Home ----------------------------------------------------------------------------------------

@bp.route("/reports")
@requires(*REPORT_ROLES)
def home():
    viewer = _viewer()
    period = financial_year()
    agencies = []
    if not viewer.sees_all:
        agencies = db.session.scalars(
            select(Agency).where(Agency.id.in_(viewer.agency_ids or [-1])).order_by(Agency.name)).all()
    return render_template("reports/home.html", viewer=viewer, period=period, tna=current_tna(),
                           agencies=agencies)


# --- Attendance against need ---------------------------------------------------------------------

def _need_tables(report: figures.NeedReport) -> list[Table]:
    table = Table("Attendance against need", [
        "Sector", "Agency", "Course or level", "Staff in scope", "Needed", "Booked", "Attended",
        "Gap", "% met", "Refreshers due"])
    for block in report.sectors:
        for row in block.rows:
            table.rows.append([row.sector, row.agency or "Whole sector", row.training, row.staff_in_scope,
                               row.needed, row.booked, row.attended, row.gap,
                               percent(row.attended, row.needed),
                               row.refreshers])
    return [table]


@bp.route("/reports/attendance")
@requires(*REPORT_ROLES)
def attendance():
    form, period, tna = _read_period(with_tna=True)
    report = figures.need_report(tna, period, _viewer()) if (tna and period) else None
    chart_list = []
    if report:
        for key, label in report.trainings:
            bars = [charts.Bar(r.agency or r.sector, r.attended, r.booked, r.needed)
                    for r in report.chart_rows(key)]
            chart_list.append((label, charts.need_chart(f"{label}: attended and booked against need", bars)))
    return render_template("reports/attendance.html", form=form, period=period, tna=tna,
                           report=report, charts=chart_list, viewer=_viewer(),
                           print_layout=request.args.get("print") == "1")


# --- People behind a figure ----------------------------------------------------------------------

def _describe(measure: str, filters: figures.Filters) -> str:
    parts = [MEASURE_LABELS[measure]]
    names = [
        (filters.course_id, Course, Course.title), (filters.level_id, Level, Level.name),
        (filters.sector_id, Sector, Sector.name), (filters.agency_id, Agency, Agency.name),
    ]
    for value, model, column in names:
        if value:
            found = db.session.scalar(select(column).where(model.id == value))
            if found is None:
                abort(404)
            parts.append(f"any {found} course" if model is Level else found)
    if filters.session_id:
        title = db.session.execute(
            select(Course.title, Session.starts_at).join(Session.course)
            .where(Session.id == filters.session_id)).first()
        if title is None:
            abort(404)
        from app.templating import format_datetime

        parts.append(f"{title[0]} on {format_datetime(title[1])}")
    return ": ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def _people_request():
    measure = request.args.get("measure", "attended")
    if measure not in MEASURE_LABELS:
        abort(404)
    viewer = _viewer()
    filters = _filters()
    if filters.agency_id and not viewer.may_see_agency(filters.agency_id):
        abort(403)
    return measure, viewer, filters


def _page(query, page: int, size: int = PAGE_SIZE):
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(size).offset((page - 1) * size)).all()
    return rows, total


def _booking_table(title: str, rows) -> Table:
    from app.templating import format_datetime

    table = Table(title, ["Name", "E-mail", "Agency when booked", "Sector", "Course", "Session",
                          "Booking", "Attendance", "Walk-in", "Late cancellation"])
    for r in rows:
        table.rows.append([r.name, r.email, r.agency or figures.NOT_RECORDED, r.sector or "", r.title,
                           format_datetime(r.starts_at), STATE_LABELS.get(r.status, r.status),
                           OUTCOME_LABELS.get(r.outcome or "", ""), "Yes" if r.walk_in else "",
                           "Yes" if r.late_cancellation else ""])
    return table


def _refresher_table(title: str, rows) -> Table:
    table = Table(title, ["Name", "E-mail", "Agency now", "Sector", "Course", "Completed", "Refresher due"])
    for r in rows:
        table.rows.append([r.name, r.email, r.agency, r.sector, r.title,
                           r.completed_on.strftime("%-d %B %Y"), figures.due_on(r).strftime("%-d %B %Y")])
    return table


@bp.route("/reports/people")
@requires(*REPORT_ROLES)
def people():
    form, period, _tna = _read_period()
    measure, viewer, filters = _people_request()
    if period is None:
        args = {k: v for k, v in _filter_args(filters).items() if v}
        return render_template("reports/people.html", form=form, period=None, measure=measure,
                               heading=MEASURE_LABELS[measure], sections=[],
                               args=dict(args, measure=measure))
    heading = _describe(measure, filters)
    page = query_page()
    sections = []
    if measure == "gap":
        for key, title in (("not_attended", "Booked but not (yet) attended"),
                           ("refresher", "Refresher due in the period")):
            query = (figures.refresher_rows(period, viewer, filters) if key == "refresher"
                     else figures.booking_rows(period, viewer, key, filters))
            rows, total = _page(query, 1)
            sections.append({"title": title, "kind": key, "rows": rows, "total": total, "pages": 1,
                             "more": url_for(".people", **_query_args(period, measure=key,
                                                                      **_filter_args(filters)))})
    else:
        query = (figures.refresher_rows(period, viewer, filters) if measure == "refresher"
                 else figures.booking_rows(period, viewer, measure, filters))
        if request.args.get("print") == "1":  # on paper: every row, not one page of them
            rows, total = _page(query, 1, size=PRINT_LIMIT)
            pages = 1
        else:
            rows, total = _page(query, page)
            pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        sections.append({"title": MEASURE_LABELS[measure], "kind": measure, "rows": rows, "total": total,
                         "pages": pages, "more": None})
    args = _query_args(period, measure=measure, **_filter_args(filters))
    return render_template("reports/people.html", form=form, period=period, measure=measure,
                           heading=heading, sections=sections, page=page, args=args,
                           due_on=figures.due_on, state_labels=STATE_LABELS,
                           outcome_labels=OUTCOME_LABELS, print_layout=request.args.get("print") == "1")


def _filter_args(filters: figures.Filters) -> dict:
    return {"sector": filters.sector_id, "agency": filters.agency_id, "course": filters.course_id,
            "level": filters.level_id, "session": filters.session_id}


# --- Multi-agency mix ----------------------------------------------------------------------------

def _mix_tables(report: figures.MixReport) -> list[Table]:
    from app.templating import format_datetime

    sessions = Table("Sessions", ["Date", "Course", "Places", "Taking part", "Sectors present",
                                  "Largest sector", "Largest share %", "One sector over half",
                                  "Sectors"])
    for s in report.sessions:
        largest = s.largest
        sessions.rows.append([
            format_datetime(s.starts_at), s.title, s.capacity, s.taking_part, len(s.sectors),
            largest[1] if largest else "",
            percent(largest[2], s.taking_part) if largest else None, "Yes" if s.dominated else "No",
            "; ".join(f"{name} {n}" for _, name, n in s.sectors)])
    totals = Table("Sector totals", ["Sector", "Places taken"],
                   [[name, n] for _, name, n in report.sector_totals])
    return [sessions, totals]


@bp.route("/reports/mix")
@requires(*REPORT_ROLES)
def mix():
    form, period, _ = _read_period()
    report = figures.mix_report(period, _viewer()) if period else None
    only = request.args.get("only", "dominated")
    page = query_page()
    shown, pages, chart = [], 1, None
    if report:
        listed = report.dominated if only == "dominated" else report.sessions
        if request.args.get("print") == "1":
            shown = listed  # the print layout has every session on paper, not one page of them
        else:
            pages = max((len(listed) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
            shown = listed[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        chart = charts.share_chart("Share of places taken by each sector",
                                   [(name, n) for _, name, n in report.sector_totals])
    return render_template("reports/mix.html", form=form, period=period, report=report, shown=shown,
                           only=only, page=page, pages=pages, chart=chart, viewer=_viewer(),
                           print_layout=request.args.get("print") == "1")


# --- Activity per agency -------------------------------------------------------------------------

ACTIVITY_COLUMNS = [
    ("bookings", "Bookings"), ("attendances", "Attendances"), ("cancellations", "Cancellations"),
    ("late_cancellations", "Late cancellations"), ("no_shows", "No-shows"), ("walk_ins", "Walk-ins"),
]
ACTIVITY_MEASURES = {"bookings": "bookings", "attendances": "attended", "cancellations": "cancellations",
                     "late_cancellations": "late_cancellations", "no_shows": "no_shows",
                     "walk_ins": "walk_ins"}


def _activity_tables(report: figures.ActivityReport) -> list[Table]:
    charge_label = "Charges due (£)"
    table = Table("Activity per agency", ["Agency", "Sector"] + [l for _, l in ACTIVITY_COLUMNS] + [charge_label])
    for r in report.rows:
        table.rows.append([r.agency, r.sector] + [getattr(r, k) for k, _ in ACTIVITY_COLUMNS]
                          + [round(r.charges_pence / 100, 2)])
    table.rows.append(["Total", ""] + [report.total(k) for k, _ in ACTIVITY_COLUMNS]
                      + [round(report.total("charges_pence") / 100, 2)])
    return [table]


@bp.route("/reports/activity")
@requires(*REPORT_ROLES)
def activity():
    form, period, _ = _read_period()
    report = figures.activity_report(period, _viewer()) if period else None
    return render_template("reports/activity.html", form=form, period=period, report=report,
                           columns=ACTIVITY_COLUMNS, measures=ACTIVITY_MEASURES,
                           print_layout=request.args.get("print") == "1")


# --- Annual report tables ------------------------------------------------------------------------

def _annual_tables(report: figures.AnnualReport) -> list[Table]:
    events = Table("Attendees per event", ["Name of event", "Attendees to date"],
                   [[title, n] for _, title, n in report.events])
    events.rows.append(["Total attendees", report.total])
    sectors = Table("Attendance by sector", ["Sector", "Attendees"],
                    [[name, n] for _, name, n in report.by_sector])
    summary = Table("Summary", ["Figure", "Value"], [
        ["Attendances", report.total], ["Different people who attended", report.people]])
    tables = [events, sectors, summary]
    if report.evaluation:
        tables.append(Table("Evaluation", ["Figure", "Value"], [list(i) for i in report.evaluation]))
    return tables


@bp.route("/reports/annual")
@requires(*REPORT_ROLES)
def annual():
    form, period, _ = _read_period()
    report = figures.annual_report(period, _viewer()) if period else None
    chart = None
    if report:
        chart = charts.share_chart("Attendance by sector", [(name, n) for _, name, n in report.by_sector])
    return render_template("reports/annual.html", form=form, period=period, report=report, chart=chart,
                           viewer=_viewer(), print_layout=request.args.get("print") == "1")


# --- Exports -------------------------------------------------------------------------------------

@bp.route("/reports/<any(attendance, mix, activity, annual, people):report>.<any(csv, xlsx):fmt>")
@requires(*REPORT_ROLES)
def export(report: str, fmt: str):
    form, period, tna = _read_period(with_tna=report == "attendance")
    if period is None:
        flash("Choose a period that ends on or after the day it starts.", "error")
        return redirect(url_for(f".{report}"))
    viewer = _viewer()
    if report == "attendance":
        if tna is None:
            abort(404)
        heading = f"Attendance against need ({tna.name}), {period.label}"
        tables = _need_tables(figures.need_report(tna, period, viewer))
    elif report == "mix":
        heading = f"Multi-agency mix, {period.label}"
        tables = _mix_tables(figures.mix_report(period, viewer))
    elif report == "activity":
        heading = f"Activity per agency, {period.label}"
        tables = _activity_tables(figures.activity_report(period, viewer))
    elif report == "annual":
        heading = f"Annual report tables, {period.label}"
        tables = _annual_tables(figures.annual_report(period, viewer))
    else:
        measure, viewer, filters = _people_request()
        heading = f"{_describe(measure, filters)}, {period.label}"
        tables = []
        if measure in ("gap", "not_attended") or measure in figures.BOOKING_MEASURES:
            key = "not_attended" if measure == "gap" else measure
            tables.append(_booking_table(MEASURE_LABELS[key],
                                         db.session.execute(figures.booking_rows(period, viewer, key, filters))))
        if measure in ("gap", "refresher"):
            tables.append(_refresher_table("Refresher due in the period",
                                           db.session.execute(figures.refresher_rows(period, viewer, filters))))
    return _download(report, fmt, heading, tables, period)


# --- Training needs analyses ---------------------------------------------------------------------

def _field_error(form, error: ReportsError, default: str) -> None:
    field = getattr(form, error.field or default, None) or getattr(form, default)
    field.errors = list(field.errors) + [error.message]


def _uploaded(form) -> tuple[bytes, str] | None:
    storage = form.file.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.read(), storage.filename


@bp.route("/reports/needs")
@requires(ADMIN, REVIEWER)
def needs():
    tnas = db.session.execute(
        select(TrainingNeedsAnalysis, func.count(TnaLine.id))
        .outerjoin(TnaLine, TnaLine.tna_id == TrainingNeedsAnalysis.id)
        .group_by(TrainingNeedsAnalysis.id).order_by(TrainingNeedsAnalysis.starts_on.desc())
    ).all()
    return render_template("reports/needs.html", tnas=tnas)


@bp.route("/reports/needs/new", methods=["GET", "POST"])
@requires(ADMIN)
def needs_new():
    form = TnaForm()
    if request.method == "GET":
        year = financial_year()
        form.starts_on.data, form.ends_on.data = year.starts_on, year.ends_on
        form.name.data = f"Training needs {year.starts_on.year} to {year.ends_on.year}"
    if form.validate_on_submit():
        upload = _uploaded(form)
        try:
            if upload is None:
                tna = create_tna(form.name.data, form.starts_on.data, form.ends_on.data, current_user)
                db.session.commit()
                flash(f"“{tna.name}” created. Add its lines or import them from a CSV file.", "success")
                return redirect(url_for(".need_detail", tna_id=tna.id))
            pending = upload_tna_import(*upload, current_user, name=form.name.data,
                                        starts_on=form.starts_on.data, ends_on=form.ends_on.data)
            db.session.commit()
            return redirect(url_for(".import_preview", import_id=pending.id))
        except ImportRefused as refused:
            db.session.rollback()
            form.file.errors = list(form.file.errors) + [refused.message]
            return render_template("reports/need_form.html", form=form, tna=None,
                                   problems=refused.problems), 422
        except ReportsError as error:
            db.session.rollback()
            _field_error(form, error, "name")
    return render_template("reports/need_form.html", form=form, tna=None, problems=None)


@bp.route("/reports/needs/template.csv")
@requires(ADMIN)
def needs_template():
    return Response(template_csv(None), mimetype=CSV_TYPE,
                    headers={"Content-Disposition": 'attachment; filename="training-needs-template.csv"'})


@bp.route("/reports/needs/<int:tna_id>")
@requires(ADMIN, REVIEWER)
def need_detail(tna_id: int):
    tna = _tna_or_404(tna_id)
    lines = db.session.scalars(
        select(TnaLine).join(Sector, Sector.id == TnaLine.sector_id)
        .outerjoin(Agency, Agency.id == TnaLine.agency_id)
        .where(TnaLine.tna_id == tna.id).order_by(Sector.position, Sector.name, Agency.name, TnaLine.id)
    ).all()
    imports = db.session.scalars(
        select(TnaImport).where(TnaImport.tna_id == tna.id, TnaImport.status != PENDING)
        .order_by(TnaImport.uploaded_at.desc())
    ).all()
    return render_template("reports/need_detail.html", tna=tna, lines=lines, imports=imports)


@bp.route("/reports/needs/<int:tna_id>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def need_edit(tna_id: int):
    tna = _tna_or_404(tna_id)
    form = TnaForm(obj=tna)
    del form.file
    if form.validate_on_submit():
        try:
            update_tna(tna, form.name.data, form.starts_on.data, form.ends_on.data, current_user)
            db.session.commit()
            flash("Saved.", "success")
            return redirect(url_for(".need_detail", tna_id=tna.id))
        except ReportsError as error:
            db.session.rollback()
            tna = _tna_or_404(tna_id)
            _field_error(form, error, "name")
    return render_template("reports/need_form.html", form=form, tna=tna, problems=None)


@bp.route("/reports/needs/<int:tna_id>/template.csv")
@requires(ADMIN)
def need_template(tna_id: int):
    tna = _tna_or_404(tna_id)
    return Response(template_csv(tna), mimetype=CSV_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="training-needs-{tna.id}.csv"'})


@bp.route("/reports/needs/<int:tna_id>/import", methods=["GET", "POST"])
@requires(ADMIN)
def need_import(tna_id: int):
    tna = _tna_or_404(tna_id)
    form = TnaImportForm()
    problems = None
    if form.validate_on_submit():
        upload = _uploaded(form)
        if upload is None:
            form.file.errors = list(form.file.errors) + ["Choose a CSV file to upload"]
        else:
            try:
                pending = upload_tna_import(*upload, current_user, tna=tna)
                db.session.commit()
                return redirect(url_for(".import_preview", import_id=pending.id))
            except ImportRefused as refused:
                db.session.rollback()
                problems = refused.problems
                form.file.errors = list(form.file.errors) + [refused.message]
    status = 422 if problems else 200
    return render_template("reports/need_import.html", form=form, tna=tna, problems=problems), status


def _pending_or_404(import_id: int) -> TnaImport:
    pending = db.session.get(TnaImport, import_id) or abort(404)
    if pending.uploaded_by_id != current_user.id:
        abort(404)
    return pending


@bp.route("/reports/needs/imports/<int:import_id>")
@requires(ADMIN)
def import_preview(import_id: int):
    pending = _pending_or_404(import_id)
    if pending.status != PENDING:
        flash("That import has already been applied or discarded.", "info")
        return redirect(url_for(".need_detail", tna_id=pending.tna_id) if pending.tna_id
                        else url_for(".needs"))
    preview = preview_import(pending)
    return render_template("reports/import_preview.html", pending=pending, preview=preview)


@bp.route("/reports/needs/imports/<int:import_id>/apply", methods=["POST"])
@requires(ADMIN)
def import_apply(import_id: int):
    pending = _pending_or_404(import_id)
    try:
        tna = apply_import(pending, current_user)
        db.session.commit()
    except ReportsError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".needs"))
    flash(f"Imported: {pending.added} added, {pending.changed} changed, {pending.unchanged} unchanged.",
          "success")
    return redirect(url_for(".need_detail", tna_id=tna.id))


@bp.route("/reports/needs/imports/<int:import_id>/discard", methods=["POST"])
@requires(ADMIN)
def import_discard(import_id: int):
    pending = _pending_or_404(import_id)
    tna_id = pending.tna_id
    try:
        discard_import(pending, current_user)
        db.session.commit()
        flash("The file was discarded; nothing changed.", "success")
    except ReportsError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for(".need_detail", tna_id=tna_id) if tna_id else url_for(".needs"))


def _line_form(tna: TrainingNeedsAnalysis, line: TnaLine | None) -> TnaLineForm:
    form = TnaLineForm(obj=line)
    sectors = db.session.scalars(select(Sector).order_by(Sector.position, Sector.name)).all()
    agencies = db.session.scalars(select(Agency).join(Agency.sector).order_by(Sector.position, Agency.name)).all()
    courses = db.session.scalars(select(Course).order_by(Course.title)).all()
    levels = db.session.scalars(select(Level).order_by(Level.position, Level.name)).all()
    form.sector_id.choices = [(s.id, s.name) for s in sectors]
    form.agency_id.choices = [(0, "The whole sector")] + [(a.id, f"{a.name} ({a.sector.name})") for a in agencies]
    form.course_id.choices = [(0, "No course (a level below)")] + [(c.id, f"{c.title} ({c.code})") for c in courses]
    form.level_id.choices = [(0, "No level (a course above)")] + [(l.id, l.name) for l in levels]
    if request.method == "GET" and line is not None:
        form.agency_id.data = line.agency_id or 0
        form.course_id.data = line.course_id or 0
        form.level_id.data = line.level_id or 0
    return form


def _save_line_from(form: TnaLineForm, tna: TrainingNeedsAnalysis, line: TnaLine | None):
    sector = db.session.get(Sector, form.sector_id.data)
    agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
    course = db.session.get(Course, form.course_id.data) if form.course_id.data else None
    level = db.session.get(Level, form.level_id.data) if form.level_id.data else None
    return save_line(tna, sector=sector, agency=agency, course=course, level=level,
                     staff_in_scope=form.staff_in_scope.data, needed=form.needed.data,
                     actor=current_user, line=line)


@bp.route("/reports/needs/<int:tna_id>/lines/new", methods=["GET", "POST"])
@bp.route("/reports/needs/<int:tna_id>/lines/<int:line_id>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def line_edit(tna_id: int, line_id: int | None = None):
    tna = _tna_or_404(tna_id)
    line = None
    if line_id is not None:
        line = db.session.get(TnaLine, line_id)
        if line is None or line.tna_id != tna.id:
            abort(404)
    form = _line_form(tna, line)
    if form.validate_on_submit():
        try:
            _save_line_from(form, tna, line)
            db.session.commit()
            flash("Line saved.", "success")
            return redirect(url_for(".need_detail", tna_id=tna.id))
        except ReportsError as error:
            db.session.rollback()
            _field_error(form, error, "needed")
    return render_template("reports/line_form.html", form=form, tna=tna, line=line)


@bp.route("/reports/needs/<int:tna_id>/lines/<int:line_id>/delete", methods=["POST"])
@requires(ADMIN)
def line_delete(tna_id: int, line_id: int):
    line = db.session.get(TnaLine, line_id)
    if line is None or line.tna_id != tna_id:
        abort(404)
    delete_line(line, current_user)
    db.session.commit()
    flash("Line removed.", "success")
    return redirect(url_for(".need_detail", tna_id=tna_id))


# --- Acting on a gap -----------------------------------------------------------------------------

@bp.route("/reports/gaps/email", methods=["GET", "POST"])
@requires(ADMIN)
def gap_email():
    _form, period, tna = _read_period(with_tna=True)
    sector = db.session.get(Sector, query_int("sector", 0))
    course = db.session.get(Course, query_int("course", 0))
    level = db.session.get(Level, query_int("level", 0))
    if tna is None or period is None or sector is None or (course is None) == (level is None):
        abort(404)
    training_key = f"c{course.id}" if course else f"l{level.id}"
    training = course.title if course else f"Any {level.name} course"
    behind = figures.agencies_behind(tna, period, sector.id, course.id if course else None,
                                     level.id if level else None)
    coordinators = coordinators_of([b.agency.id for b in behind])
    reachable = [b for b in behind if coordinators.get(b.agency.id)]
    now = utcnow()
    sessions = figures.upcoming_sessions(course.id if course else None, level.id if level else None, now)
    places = availability_for(sessions, now)
    sessions = [s for s in sessions if places[s.id].left > 0]
    last = last_reminders(tna, training_key, [b.agency.id for b in behind])
    form = GapEmailForm()
    form.agencies.choices = [(b.agency.id, b.agency.name) for b in reachable]
    if request.method == "GET":
        form.agencies.data = [b.agency.id for b in reachable[:3]]
    if form.validate_on_submit():
        chosen = [b for b in reachable if b.agency.id in set(form.agencies.data)]
        fig = {b.agency.id: {"needed": b.needed, "attended": b.attended, "gap": b.gap} for b in chosen}
        try:
            outcome = email_gap(tna, course=course, level=level, agencies=[b.agency for b in chosen],
                                figures=fig, sessions=sessions, actor=current_user)
            db.session.commit()
        except ReportsError as error:
            db.session.rollback()
            _field_error(form, error, "agencies")
        else:
            if outcome.sent:
                flash("E-mailed the coordinators of " + ", ".join(a.name for a in outcome.sent) + ".",
                      "success")
            if outcome.already:
                flash("Not sent again this week to " + ", ".join(a.name for a in outcome.already)
                      + ": they were e-mailed about this gap already.", "info")
            return redirect(request.full_path)
    return render_template("reports/gap_email.html", form=form, tna=tna, period=period, sector=sector,
                           training=training, behind=behind, coordinators=coordinators, sessions=sessions,
                           places=places, last=last, course=course, level=level)

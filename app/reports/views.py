"""Report pages, their drill-downs and exports, and the training needs analysis screens."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.access_log import record_access
from app.accounts.access import ADMIN, REVIEWER, requires
from app.accounts.models import Agency, Sector
from app.bookings.models import OUTCOME_LABELS, STATE_LABELS
from app.bookings.places import availability_for
from app.clock import utcnow
from app.courses.models import Course, Level, Recommendation
from app.extensions import db
from app.filters import Period, Viewer, financial_year
from app.inputs import parse_iso_date, query_int, query_page, row_or_404
from app.refusals import refusals
from app.reports import bp, figures, queries
from app.reports.catalogue import (
    CATALOGUE,
    LISTED,
    MEASURE_LABELS,
    PAGE_SIZE,
    REPORT_ROLES,
    Query,
    Report,
    filter_args,
    people_list,
    people_request,
)
from app.spreadsheets import CSV_TYPE, XLSX_TYPE, Table, to_csv, to_xlsx
from app.reports.forms import GapEmailForm, PeriodForm, TnaForm, TnaImportForm, TnaLineForm
from app.reports.models import PENDING, TnaImport, TnaLine, TrainingNeedsAnalysis
from app.reports.errors import ImportRefused
from app.reports.gaps import coordinators_of, email_gap, last_reminders
from app.reports.needs import create_tna, current_tna, delete_line, save_line, update_tna
from app.reports.recommendations import written_practice
from app.reports.needs_import import apply_import, discard_import, preview_import, template_csv, upload_tna_import

PRINT_LIMIT = 5000  # beyond this, the spreadsheet is the better way to read a list


# --- Shared helpers ------------------------------------------------------------------------------

def _viewer() -> Viewer:
    return Viewer.of(current_user)


def _tna_or_404(tna_id: int) -> TrainingNeedsAnalysis:
    return db.session.get(TrainingNeedsAnalysis, tna_id) or abort(404)


def _date_parts(name: str, day: date | None) -> list[tuple[str, str]]:
    """A date as the day, month and year boxes of the period form would send it."""
    values = [str(day.day), str(day.month), str(day.year)] if day else ["", "", ""]
    return [(name, v) for v in values]


def _read_period(with_tna: bool = False):
    """The report's period (and analysis) from the query string: (form, period or None, tna)."""
    args = request.args
    tnas = queries.analyses()
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


def _download(report: str, fmt: str, heading: str, tables: list[Table], period: Period) -> Response:
    name = f"{report}-{period.slug}.{fmt}"
    if fmt == "csv":
        body, mimetype = to_csv(heading, tables), CSV_TYPE
    else:
        body, mimetype = to_xlsx(heading, tables), XLSX_TYPE
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- Home ----------------------------------------------------------------------------------------

@bp.route("/reports")
@requires(*REPORT_ROLES)
def home():
    viewer = _viewer()
    period = financial_year()
    agencies = [] if viewer.sees_all else viewer.agencies()
    return render_template("reports/home.html", viewer=viewer, period=period, tna=current_tna(),
                           agencies=agencies)


@bp.app_template_global()
def listed_reports() -> list[Report]:
    """The reports the home page and the report tabs list to the viewer, in the catalogue's order."""
    return [report for report in LISTED if current_user.has_role(*report.roles)]


# --- The catalogue's reports: a page each, and their exports -------------------------------------

def _show(report: Report):
    form, period, tna = _read_period(with_tna=report.with_tna)
    query = Query(period, tna, _viewer(), request.args, exact=current_user.has_role(ADMIN))
    built = report.figures_for(query) if report.ready(query) else None
    return render_template(report.template, form=form, period=period, tna=tna, report=built,
                           viewer=query.viewer, print_layout=query.print_layout,
                           **(report.charts(built) if built else {}), **report.page(built, query))


def _page_view(report: Report):
    def show():
        return _show(report)

    show.__name__ = report.slug
    return requires(*report.roles)(show)


for _report in CATALOGUE.values():
    if not _report.own_view:
        bp.add_url_rule(f"/reports/{_report.slug}", _report.slug, _page_view(_report))


@bp.route(f"/reports/<any({', '.join(CATALOGUE)}):report>.<any(csv, xlsx):fmt>")
@requires(*{role for report in CATALOGUE.values() for role in report.roles})
def export(report: str, fmt: str):
    entry = CATALOGUE[report]
    if not current_user.has_role(*entry.roles):
        abort(403)
    form, period, tna = _read_period(with_tna=entry.with_tna)
    if period is None:
        flash("Choose a period that ends on or after the day it starts.", "error")
        return redirect(url_for(f".{report}"))
    if entry.with_tna and tna is None:
        abort(404)
    query = Query(period, tna, _viewer(), request.args, exact=current_user.has_role(ADMIN))
    built = entry.figures_for(query)
    if report == "people":  # the other reports are counts, never people
        record_access("people_report", scope=f"{built.measure}, {period.starts_on} to {period.ends_on}")
    return _download(report, fmt, entry.export_heading(built, query), entry.tables(built), period)


# --- Learning from reviews: what people wrote about their practice -------------------------------

@bp.route("/reports/recommendations/<int:recommendation_id>/written")
@requires(*CATALOGUE["recommendations"].roles)
def recommendation_written(recommendation_id: int):
    """The second evaluation's written answers about practice from the training that answers one
    recommendation: text only, and none where fewer than the minimum answered (as evaluation's)."""
    recommendation = row_or_404(Recommendation, recommendation_id)
    form, period, _tna = _read_period()
    responses, questions = (written_practice(recommendation, period) if period else (0, []))
    if questions:
        record_access("evaluation_answers", scope=f"recommendation {recommendation.id}, "
                                                  f"{period.starts_on} to {period.ends_on}")
    return render_template("reports/recommendation_written.html", form=form, period=period,
                           recommendation=recommendation, responses=responses, questions=questions)


# --- People behind a figure ----------------------------------------------------------------------

@bp.route("/reports/people")
@requires(*CATALOGUE["people"].roles)
def people():
    form, period, _tna = _read_period()
    viewer = _viewer()
    if period is None:
        measure, filters = people_request(viewer)
        args = {k: v for k, v in filter_args(filters).items() if v}
        return render_template("reports/people.html", form=form, period=None, measure=measure,
                               heading=MEASURE_LABELS[measure], sections=[],
                               args=dict(args, measure=measure))
    listing = people_list(Query(period, None, viewer, request.args))
    measure, filters = listing.measure, listing.filters
    record_access("people_report", scope=f"{measure}, {period.starts_on} to {period.ends_on}")
    page = query_page()
    sections = []
    for section in listing.sections:
        if measure == "gap":  # a first page of each, linked to the whole list
            rows, total = queries.page_of(section.rows, 1, PAGE_SIZE)
            pages, more = 1, url_for(".people", **period.args(measure=section.kind,
                                                              **filter_args(filters)))
        elif request.args.get("print") == "1":  # on paper: every row, not one page of them
            rows, total = queries.page_of(section.rows, 1, PRINT_LIMIT)
            pages, more = 1, None
        else:
            rows, total = queries.page_of(section.rows, page, PAGE_SIZE)
            pages, more = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), None
        sections.append({"title": section.title, "kind": section.kind, "rows": rows, "total": total,
                         "pages": pages, "more": more})
    args = period.args(measure=measure, **filter_args(filters))
    return render_template("reports/people.html", form=form, period=period, measure=measure,
                           heading=listing.heading, sections=sections, page=page, args=args,
                           due_on=figures.due_on, state_labels=STATE_LABELS,
                           outcome_labels=OUTCOME_LABELS, print_layout=request.args.get("print") == "1")


# --- Training needs analyses ---------------------------------------------------------------------

def _uploaded(form) -> tuple[bytes, str] | None:
    storage = form.file.data
    if storage is None or not getattr(storage, "filename", ""):
        return None
    return storage.read(), storage.filename


@bp.route("/reports/needs")
@requires(ADMIN, REVIEWER)
def needs():
    return render_template("reports/needs.html", tnas=queries.analyses_with_line_counts())


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
        with refusals(form, field="name") as attempt:
            if upload is None:
                tna = create_tna(form.name.data, form.starts_on.data, form.ends_on.data, current_user)
            else:
                pending = upload_tna_import(*upload, current_user, name=form.name.data,
                                            starts_on=form.starts_on.data, ends_on=form.ends_on.data)
        if not attempt.refused and upload is None:
            flash(f"“{tna.name}” created. Add its lines or import them from a CSV file.", "success")
            return redirect(url_for(".need_detail", tna_id=tna.id))
        if not attempt.refused:
            return redirect(url_for(".import_preview", import_id=pending.id))
        if isinstance(attempt.error, ImportRefused):
            return render_template("reports/need_form.html", form=form, tna=None,
                                   problems=attempt.error.problems), 422
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
    return render_template("reports/need_detail.html", tna=tna, lines=queries.analysis_lines(tna),
                           imports=queries.past_imports(tna))


@bp.route("/reports/needs/<int:tna_id>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def need_edit(tna_id: int):
    tna = _tna_or_404(tna_id)
    form = TnaForm(obj=tna)
    del form.file
    if form.validate_on_submit():
        with refusals(form, field="name") as attempt:
            update_tna(tna, form.name.data, form.starts_on.data, form.ends_on.data, current_user)
        if not attempt.refused:
            flash("Saved.", "success")
            return redirect(url_for(".need_detail", tna_id=tna.id))
        tna = _tna_or_404(tna_id)
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
            with refusals(form) as attempt:
                pending = upload_tna_import(*upload, current_user, tna=tna)
            if not attempt.refused:
                return redirect(url_for(".import_preview", import_id=pending.id))
            if isinstance(attempt.error, ImportRefused):
                problems = attempt.error.problems
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
    with refusals() as attempt:
        tna = apply_import(pending, current_user)
    if attempt.refused:
        return redirect(url_for(".needs"))
    flash(f"Imported: {pending.added} added, {pending.changed} changed, {pending.unchanged} unchanged.",
          "success")
    return redirect(url_for(".need_detail", tna_id=tna.id))


@bp.route("/reports/needs/imports/<int:import_id>/discard", methods=["POST"])
@requires(ADMIN)
def import_discard(import_id: int):
    pending = _pending_or_404(import_id)
    tna_id = pending.tna_id
    with refusals() as attempt:
        discard_import(pending, current_user)
    if not attempt.refused:
        flash("The file was discarded; nothing changed.", "success")
    return redirect(url_for(".need_detail", tna_id=tna_id) if tna_id else url_for(".needs"))


def _line_form(tna: TrainingNeedsAnalysis, line: TnaLine | None) -> TnaLineForm:
    form = TnaLineForm(obj=line)
    sectors, agencies, courses, levels = queries.line_choices()
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
        line = row_or_404(TnaLine, line_id, tna_id=tna.id)
    form = _line_form(tna, line)
    if form.validate_on_submit():
        with refusals(form, field="needed") as attempt:
            _save_line_from(form, tna, line)
        if not attempt.refused:
            flash("Line saved.", "success")
            return redirect(url_for(".need_detail", tna_id=tna.id))
    return render_template("reports/line_form.html", form=form, tna=tna, line=line)


@bp.route("/reports/needs/<int:tna_id>/lines/<int:line_id>/delete", methods=["POST"])
@requires(ADMIN)
def line_delete(tna_id: int, line_id: int):
    line = row_or_404(TnaLine, line_id, tna_id=tna_id)
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
    record_access("people_list", scope=f"coordinators, analysis {tna.id}, sector {sector.id}")
    if form.validate_on_submit():
        chosen = [b for b in reachable if b.agency.id in set(form.agencies.data)]
        fig = {b.agency.id: {"needed": b.needed, "attended": b.attended, "gap": b.gap} for b in chosen}
        with refusals(form, field="agencies") as attempt:
            outcome = email_gap(tna, course=course, level=level, agencies=[b.agency for b in chosen],
                                figures=fig, sessions=sessions, actor=current_user)
        if not attempt.refused:
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

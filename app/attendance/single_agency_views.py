"""Single-agency training: coordinators record what their agency ran (one at a time or by upload);
the L&D team sees every agency's."""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, COORDINATOR, requires
from app.accounts.models import Agency
from app.attendance import bp, queries
from app.attendance.forms import SingleAgencyApplyForm, SingleAgencyTrainingForm, SingleAgencyUploadForm
from app.attendance.models import SingleAgencyTraining
from app.attendance.single_agency import (
    MAX_ROWS,
    UPLOAD_COLUMNS,
    TrainingDetails,
    apply_upload,
    check_upload,
    delete_single_agency_training,
    may_record_for,
    read_upload,
    record_single_agency_training,
    split_emails,
)
from app.courses.models import Course, Level
from app.extensions import db
from app.filters import Viewer
from app.inputs import query_int, whole_number
from app.refusals import refusals


def _agencies() -> list[Agency]:
    """The agencies the signed-in person records for: every active one for the L&D team, else their own."""
    return [a for a in Viewer.of(current_user, sees_all=(ADMIN,)).agencies() if a.active]


def _agency_choices(form) -> list[Agency]:
    agencies = _agencies()
    form.agency_id.choices = [(a.id, a.name) for a in agencies]
    return agencies


def _chosen_agency(agency_id) -> Agency | None:
    """The agency a form names, if the signed-in person may record for it."""
    agency = db.session.get(Agency, agency_id) if isinstance(agency_id, int) and agency_id > 0 else None
    return agency if agency is not None and may_record_for(current_user, agency) else None


@bp.route("/agency/single-agency-training")
@requires(COORDINATOR, ADMIN)
def single_agency_list():
    viewer = Viewer.of(current_user, sees_all=(ADMIN,))
    agency_id = query_int("agency_id") or None
    if agency_id and not viewer.may_see_agency(agency_id):
        abort(404)
    trainings = queries.single_agency_trainings(viewer.agency_ids, agency_id)
    return render_template("attendance/single_agency_list.html", trainings=trainings,
                           agencies=viewer.agencies(), agency_id=agency_id, sees_all=viewer.sees_all)


@bp.route("/agency/single-agency-training/new", methods=["GET", "POST"])
@requires(COORDINATOR, ADMIN)
def single_agency_new():
    form = SingleAgencyTrainingForm()
    agencies = _agency_choices(form)
    levels, courses = queries.levels_for_choice(), queries.courses_for_filter()
    form.level_id.choices = [(0, "Choose a level")] + [(lv.id, lv.name) for lv in levels]
    form.course_id.choices = [(0, "None")] + [(c.id, f"{c.title} ({c.code})") for c in courses]
    if not agencies:
        abort(404)
    if form.validate_on_submit():
        agency = _chosen_agency(form.agency_id.data)
        try:
            hours = Decimal(form.hours.data.strip())
        except InvalidOperation:
            hours = None
            form.hours.errors = list(form.hours.errors) + ["The hours must be a number, for example 3 or 2.5"]
        if agency is None:
            form.agency_id.errors = list(form.agency_id.errors) + ["Choose one of your agencies"]
        elif hours is not None:
            details = TrainingDetails(
                title=form.title.data, held_on=form.held_on.data, hours=hours,
                level=db.session.get(Level, form.level_id.data) if form.level_id.data else None,
                course=db.session.get(Course, form.course_id.data) if form.course_id.data else None,
                delivered_by=form.delivered_by.data or "", attendee_emails=split_emails(form.attendee_emails.data),
                others_count=form.others_count.number or 0,
            )
            with refusals(form, field="title") as attempt:
                training = record_single_agency_training(agency, details, current_user)
            if not attempt.refused:
                flash(f"Recorded: {training.title}, {training.people} "
                      f"{'person' if training.people == 1 else 'people'}.", "success")
                return redirect(url_for("attendance.single_agency_detail", training_id=training.id))
    return render_template("attendance/single_agency_form.html", form=form)


def _training_or_404(training_id: int) -> SingleAgencyTraining:
    training = db.session.get(SingleAgencyTraining, training_id)
    if training is None or not may_record_for(current_user, training.agency):
        abort(404)
    return training


@bp.route("/agency/single-agency-training/<int:training_id>")
@requires(COORDINATOR, ADMIN)
def single_agency_detail(training_id: int):
    training = _training_or_404(training_id)
    record_access("single_agency_training", scope=f"single-agency training {training.id}, agency {training.agency_id}")
    return render_template("attendance/single_agency_detail.html", training=training,
                           delete_form=SingleAgencyApplyForm(prefix="delete"))


@bp.route("/agency/single-agency-training/<int:training_id>/delete", methods=["POST"])
@requires(COORDINATOR, ADMIN)
def single_agency_delete(training_id: int):
    training = _training_or_404(training_id)
    form = SingleAgencyApplyForm(prefix="delete")
    if not form.validate_on_submit():
        abort(400)
    with refusals() as attempt:
        delete_single_agency_training(training, current_user)
    if attempt.refused:
        return redirect(url_for("attendance.single_agency_detail", training_id=training_id))
    flash("The record was deleted.", "success")
    return redirect(url_for("attendance.single_agency_list"))


@bp.route("/agency/single-agency-training/upload", methods=["GET", "POST"])
@requires(COORDINATOR, ADMIN)
def single_agency_upload():
    form = SingleAgencyUploadForm()
    if not _agency_choices(form):
        abort(404)
    if form.validate_on_submit():
        agency = _chosen_agency(form.agency_id.data)
        storage = form.file.data
        if agency is None:
            form.agency_id.errors = list(form.agency_id.errors) + ["Choose one of your agencies"]
        elif storage is None or not getattr(storage, "filename", ""):
            form.file.errors = list(form.file.errors) + ["Choose a CSV or XLSX file to upload"]
        else:
            with refusals(form, field="file") as attempt:
                rows = read_upload(storage.read(), storage.filename)
                checked = check_upload(agency, rows, current_user)
            if not attempt.refused:
                apply_form = SingleAgencyApplyForm(formdata=None, agency_id=str(agency.id), rows=json.dumps(rows))
                return render_template("attendance/single_agency_preview.html", agency=agency, checked=checked,
                                       apply_form=apply_form, bad=sum(1 for r in checked if r.problems))
    return render_template("attendance/single_agency_upload.html", form=form, columns=UPLOAD_COLUMNS,
                           max_rows=MAX_ROWS)


@bp.route("/agency/single-agency-training/upload/apply", methods=["POST"])
@requires(COORDINATOR, ADMIN)
def single_agency_apply():
    form = SingleAgencyApplyForm()
    agency = _chosen_agency(whole_number(form.agency_id.data))
    try:
        rows = json.loads(form.rows.data or "")
        valid = (isinstance(rows, list) and 0 < len(rows) <= MAX_ROWS
                 and all(isinstance(r, dict) and all(isinstance(r.get(c), str) for c in UPLOAD_COLUMNS) for r in rows))
    except ValueError:
        valid = False
    if not form.validate_on_submit() or agency is None or not valid:
        flash("The checked rows did not come back whole: upload the file again.", "error")
        return redirect(url_for("attendance.single_agency_upload"))
    rows = [{c: r[c][:50000] for c in UPLOAD_COLUMNS} for r in rows]
    with refusals() as attempt:
        recorded = apply_upload(agency, rows, current_user)
    if attempt.refused:
        return redirect(url_for("attendance.single_agency_upload"))
    flash(f"Recorded {len(recorded)} pieces of single-agency training for {agency.name}.", "success")
    return redirect(url_for("attendance.single_agency_list", agency_id=agency.id))

"""Subject access and erasure: a person's "Your data" page, and the L&D team's copies and erasure."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, requires, signed_in
from app.accounts.models import User
from app.exports import download
from app.inputs import row_or_404
from app.privacy import bp
from app.privacy.erasure import ask_for_erasure, erase_person, erasure_blockers
from app.privacy.forms import EraseForm, ErasureRequestForm
from app.privacy.subject_access import subject_access
from app.refusals import refusals


def _json_download(person: User):
    return download(subject_access(person).as_json(), f"personal-data-{person.id}.json",
                    "application/json; charset=utf-8")


@bp.route("/account/data")
@signed_in
def your_data():
    return render_template("privacy/your_data.html", form=ErasureRequestForm())


@bp.route("/account/data.json")
@signed_in
def your_data_json():
    return _json_download(current_user)


@bp.route("/account/data/document")
@signed_in
def your_data_document():
    return render_template("privacy/document.html", person=current_user, own=True,
                           access=subject_access(current_user),
                           back=url_for("privacy.your_data"))


@bp.route("/account/data/erasure-request", methods=["POST"])
@signed_in
def erasure_request():
    form = ErasureRequestForm()
    if form.validate_on_submit():
        with refusals() as attempt:
            ask_for_erasure(current_user)
        if not attempt.refused:
            flash("We have told the L&D team. They will check what can be erased and write to you "
                  "within one month.", "success")
    return redirect(url_for("privacy.your_data"))


@bp.route("/admin/people/<int:person_id>/data.json")
@requires(ADMIN)
def admin_data_json(person_id: int):
    person = row_or_404(User, person_id)
    record_access("subject_access", subject_user_id=person.id)
    return _json_download(person)


@bp.route("/admin/people/<int:person_id>/data")
@requires(ADMIN)
def admin_data_document(person_id: int):
    person = row_or_404(User, person_id)
    record_access("subject_access", subject_user_id=person.id)
    return render_template("privacy/document.html", person=person, own=False,
                           access=subject_access(person),
                           back=url_for("accounts.admin_person", person_id=person.id))


@bp.route("/admin/people/<int:person_id>/erase", methods=["GET", "POST"])
@requires(ADMIN)
def admin_erase(person_id: int):
    person = row_or_404(User, person_id)
    back = url_for("accounts.admin_person", person_id=person.id)
    if person.is_erased:
        flash("This person’s details have already been erased.", "info")
        return redirect(back)
    form = EraseForm()
    if form.validate_on_submit():
        with refusals(show=False) as attempt:
            erase_person(person, actor=current_user)
        if attempt.refused:
            flash(attempt.message, "error")  # the page lists every reason below
        else:
            flash(f"The details of person {person.id} are erased. Their attendance still counts in "
                  "reports, without their name.", "success")
            return redirect(back)
    record_access("person", subject_user_id=person.id)
    return render_template("privacy/erase.html", person=person, form=form, back=back,
                           blockers=erasure_blockers(person))

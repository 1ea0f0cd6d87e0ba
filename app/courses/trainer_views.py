"""The L&D team's trainer pool: providers, trainers' profiles and their unavailability (under /admin)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts.access import ADMIN, TRAINER, requires
from app.accounts.models import User
from app.courses import bp
from app.courses.forms import ProviderForm, TrainerProfileForm, UnavailabilityForm
from app.courses.models import Course, Provider, TrainerUnavailability
from app.courses.queries import catalogue, providers_by_name, trainer_pool, trainer_profile_of, with_ids
from app.courses.trainers import (
    ProviderDetails,
    TrainerDetails,
    add_unavailability,
    create_provider,
    remove_unavailability,
    save_trainer_profile,
    update_provider,
)
from app.extensions import db
from app.inputs import row_or_404
from app.refusals import refusals


@bp.route("/admin/trainers")
@requires(ADMIN)
def admin_trainers():
    return render_template("courses/admin/trainers.html", pool=trainer_pool(), providers=providers_by_name())


def _provider_details(form: ProviderForm) -> ProviderDetails:
    return ProviderDetails(
        name=form.name.data or "", contact_name=form.contact_name.data or "", email=form.email.data or "",
        phone=form.phone.data or "", contract_reference=form.contract_reference.data or "",
        contract_starts_on=form.contract_starts_on.data, contract_ends_on=form.contract_ends_on.data,
        active=form.active.data)


def _provider_page(form: ProviderForm, provider: Provider | None, change):
    if form.validate_on_submit():
        with refusals(form) as attempt:
            saved = change()
        if not attempt.refused:
            flash(f"{saved.name} saved.", "success")
            return redirect(url_for("courses.admin_trainers"))
    return render_template("courses/admin/provider_form.html", form=form, provider=provider)


@bp.route("/admin/providers/new", methods=["GET", "POST"])
@requires(ADMIN)
def admin_provider_new():
    form = ProviderForm()
    return _provider_page(form, None, lambda: create_provider(_provider_details(form), current_user))


@bp.route("/admin/providers/<int:provider_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_provider_edit(provider_id: int):
    provider = row_or_404(Provider, provider_id)
    form = ProviderForm(data=None if request.method == "POST" else {
        "name": provider.name, "contact_name": provider.contact_name, "email": provider.email,
        "phone": provider.phone, "contract_reference": provider.contract_reference,
        "contract_starts_on": provider.contract_starts_on, "contract_ends_on": provider.contract_ends_on,
        "active": provider.active})
    return _provider_page(form, provider, lambda: update_provider(provider, _provider_details(form), current_user))


def _trainer_or_404(user_id: int) -> User:
    person = row_or_404(User, user_id)
    if not person.has_role(TRAINER) and trainer_profile_of(person.id) is None:
        abort(404)
    return person


def _profile_form(profile, submitted: bool) -> TrainerProfileForm:
    """The profile form, filled from the request when `submitted`, else from the saved profile."""
    saved = None if submitted else {
        "provider_id": (profile.provider_id or 0) if profile else 0,
        "course_ids": [c.id for c in profile.courses] if profile else [],
        "working_days": list(profile.working_days if profile else "01234"),
        "notes": profile.notes if profile else ""}
    form = TrainerProfileForm(data=saved) if submitted else TrainerProfileForm(formdata=None, data=saved)
    form.provider_id.choices = [(0, "Internal (the partnership’s own)")] + [
        (p.id, p.name + ("" if p.active else " (not commissioned now)")) for p in providers_by_name()]
    form.course_ids.choices = [(c.id, f"{c.title} ({c.code})") for c in catalogue()]
    return form


def _trainer_page(person: User, form: TrainerProfileForm, away_form: UnavailabilityForm, status: int = 200):
    record_access("trainer_profile", subject_user_id=person.id, scope=f"user {person.id}")
    return render_template("courses/admin/trainer_form.html", form=form, person=person,
                           profile=trainer_profile_of(person.id), away_form=away_form), status


@bp.route("/admin/trainers/<int:user_id>", methods=["GET", "POST"])
@requires(ADMIN)
def admin_trainer_edit(user_id: int):
    person = _trainer_or_404(user_id)
    form = _profile_form(trainer_profile_of(person.id), submitted=request.method == "POST")
    if form.validate_on_submit():
        details = TrainerDetails(
            provider=db.session.get(Provider, form.provider_id.data) if form.provider_id.data else None,
            courses=with_ids(Course, form.course_ids.data), working_days="".join(form.working_days.data or []),
            notes=form.notes.data or "")
        with refusals(form) as attempt:
            save_trainer_profile(person, details, current_user)
        if not attempt.refused:
            flash(f"{person.name}’s trainer profile saved.", "success")
            return redirect(url_for("courses.admin_trainer_edit", user_id=person.id))
    return _trainer_page(person, form, UnavailabilityForm(formdata=None, prefix="away"))


@bp.route("/admin/trainers/<int:user_id>/unavailable", methods=["POST"])
@requires(ADMIN)
def admin_trainer_unavailable(user_id: int):
    person = _trainer_or_404(user_id)
    form = UnavailabilityForm(prefix="away")
    if form.validate_on_submit():
        with refusals(form) as attempt:
            add_unavailability(person, form.starts_on.data, form.ends_on.data, form.reason.data or "", current_user)
        if not attempt.refused:
            flash("Dates added. Sessions on them will show a warning.", "success")
            return redirect(url_for("courses.admin_trainer_edit", user_id=person.id) + "#unavailable")
    return _trainer_page(person, _profile_form(trainer_profile_of(person.id), submitted=False), form, 400)


@bp.route("/admin/trainers/<int:user_id>/unavailable/<int:away_id>/remove", methods=["POST"])
@requires(ADMIN)
def admin_trainer_unavailable_remove(user_id: int, away_id: int):
    person = _trainer_or_404(user_id)
    away = db.session.get(TrainerUnavailability, away_id)
    if away is not None and away.profile.user_id != person.id:
        abort(404)
    with refusals() as attempt:
        remove_unavailability(away, current_user)
    if not attempt.refused:
        flash("Dates removed.", "success")
    return redirect(url_for("courses.admin_trainer_edit", user_id=person.id) + "#unavailable")

"""The L&D team's screens for sectors, agencies and people (under /admin)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access_log import record_access
from app.accounts import bp
from app.accounts import account_status, agencies, details, queries, registration, roles, sign_in
from app.accounts.access import ADMIN, requires
from app.accounts.external_sign_in import set_required_provider
from app.accounts.identity_providers import configured_providers
from app.accounts.forms import (
    AccountRefuseForm,
    AgencyEditForm,
    ConfirmForm,
    PersonEditForm,
    PersonSearchForm,
    RoleGrantForm,
    SectorEditForm,
)
from app.accounts.models import (
    GRANTABLE_ROLES,
    ROLE_LABELS,
    STATUS_LABELS,
    Agency,
    RoleGrant,
    Sector,
    User,
)
from app.accounts.views import reasked_message
from app.extensions import db
from app.inputs import query_page
from app.refusals import refusals

PEOPLE_PAGE_SIZE = 25


def _active_agency_choices(placeholder: str) -> list[tuple[int, str]]:
    return [(0, placeholder)] + [(a.id, a.name) for a in queries.active_agencies()]


# --- Sectors ---------------------------------------------------------------------------------

@bp.route("/admin/sectors")
@requires(ADMIN)
def admin_sectors():
    return render_template("accounts/admin/sectors.html", sectors=queries.sectors(),
                           agency_counts=queries.agency_counts_by_sector())


@bp.route("/admin/sectors/new", methods=["GET", "POST"], endpoint="admin_sector_new")
@bp.route("/admin/sectors/<int:sector_id>/edit", methods=["GET", "POST"],
          endpoint="admin_sector_edit")
@requires(ADMIN)
def admin_sector_form(sector_id: int | None = None):
    sector = (db.session.get(Sector, sector_id) or abort(404)) if sector_id else None
    form = SectorEditForm(obj=sector)
    if sector is None:
        del form.active  # a new sector is in use
    if form.validate_on_submit():
        with refusals(form, field="name") as attempt:
            if sector is None:
                saved = agencies.create_sector(form.name.data, current_user)
            else:
                saved = agencies.update_sector(sector, form.name.data, bool(form.active.data),
                                               current_user)
        if not attempt.refused:
            flash(f"Sector ‘{saved.name}’ {'saved' if sector else 'added'}.", "success")
            return redirect(url_for("accounts.admin_sectors"))
    return render_template("accounts/admin/sector_form.html", form=form, sector=sector)


@bp.route("/admin/sectors/<int:sector_id>/delete", methods=["POST"])
@requires(ADMIN)
def admin_sector_delete(sector_id: int):
    sector = db.session.get(Sector, sector_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        name = sector.name
        with refusals() as attempt:
            agencies.delete_sector(sector, current_user)
        if not attempt.refused:
            flash(f"Sector ‘{name}’ deleted.", "success")
    return redirect(url_for("accounts.admin_sectors"))


# --- Agencies --------------------------------------------------------------------------------

@bp.route("/admin/agencies")
@requires(ADMIN)
def admin_agencies():
    return render_template("accounts/admin/agencies.html",
                           agencies=queries.agencies_with_domains(),
                           people_counts=queries.people_counts_by_agency())


def _sector_choices(current: Sector | None) -> list[tuple[int, str]]:
    return [(0, "Choose a sector")] + [
        (s.id, s.name if s.active else f"{s.name} (no longer in use)")
        for s in queries.sectors() if s.active or s is current
    ]


@bp.route("/admin/agencies/new", methods=["GET", "POST"], endpoint="admin_agency_new")
@bp.route("/admin/agencies/<int:agency_id>/edit", methods=["GET", "POST"],
          endpoint="admin_agency_edit")
@requires(ADMIN)
def admin_agency_form(agency_id: int | None = None):
    agency = (db.session.get(Agency, agency_id) or abort(404)) if agency_id else None
    form = AgencyEditForm(obj=agency)
    if agency is None:
        del form.active  # a new agency is active
    form.sector_id.choices = _sector_choices(agency.sector if agency else None)
    if agency is not None and request.method == "GET":
        form.domains.data = "\n".join(agency.domain_names)
    providers = configured_providers()
    if providers:
        form.sign_in_provider.choices = [("", "With a password or any sign-in service")] + [
            (p.name, f"Only with {p.display_name}") for p in providers.values()]
        if request.method == "GET":
            form.sign_in_provider.data = (agency.sign_in_provider if agency else "") or ""
    else:
        del form.sign_in_provider  # nothing to require; a stored choice stays as it is
    if form.validate_on_submit():
        sector = db.session.get(Sector, form.sector_id.data or 0)
        with refusals(form, field="name") as attempt:
            if agency is None:
                saved = agencies.create_agency(form.name.data, sector, form.domains.data or "",
                                               current_user)
            else:
                saved = agencies.update_agency(agency, form.name.data, sector,
                                               form.domains.data or "", bool(form.active.data),
                                               current_user)
            if form.sign_in_provider:
                set_required_provider(saved, form.sign_in_provider.data or "", current_user)
        if not attempt.refused:
            flash(f"Agency ‘{saved.name}’ {'saved' if agency else 'added'}.", "success")
            return redirect(url_for("accounts.admin_agencies"))
    return render_template("accounts/admin/agency_form.html", form=form, agency=agency,
                           people=queries.people_in_agency(agency) if agency else 0)


@bp.route("/admin/agencies/<int:agency_id>/delete", methods=["POST"])
@requires(ADMIN)
def admin_agency_delete(agency_id: int):
    agency = db.session.get(Agency, agency_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        name = agency.name
        with refusals() as attempt:
            agencies.delete_agency(agency, current_user)
        if attempt.refused:
            return redirect(url_for("accounts.admin_agency_edit", agency_id=agency_id))
        flash(f"Agency ‘{name}’ deleted.", "success")
    return redirect(url_for("accounts.admin_agencies"))


# --- People ----------------------------------------------------------------------------------

@bp.route("/admin/people")
@requires(ADMIN)
def admin_people():
    form = PersonSearchForm(formdata=request.args)
    form.agency.choices = [(0, "Any agency")] + [
        (a.id, a.name if a.active else f"{a.name} (deactivated)") for a in queries.all_agencies()
    ]
    form.status.choices = [("", "Any")] + list(STATUS_LABELS.items())
    form.role.choices = [("", "Any")] + [(r, ROLE_LABELS[r]) for r in GRANTABLE_ROLES]
    page = query_page()
    query = queries.people_query(
        form.q.data or "", form.agency.data or None, form.status.data or "", form.role.data or ""
    )
    people = db.paginate(query, page=page, per_page=PEOPLE_PAGE_SIZE, error_out=False)
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    # The search words may be a name: the log keeps only the agency chosen.
    record_access("people_list", scope=f"agency {form.agency.data}" if form.agency.data else "")
    return render_template("accounts/admin/people.html", search=form, people=people,
                           filters=filters, status_labels=STATUS_LABELS)


def _person_or_404(person_id: int) -> User:
    return db.session.get(User, person_id) or abort(404)


@bp.route("/admin/people/<int:person_id>")
@requires(ADMIN)
def admin_person(person_id: int):
    person = queries.person_with_roles(person_id) or abort(404)
    record_access("person", subject_user_id=person.id)
    return render_template("accounts/admin/person.html", person=person,
                           events=queries.account_history(person),
                           locked_until=sign_in.sign_in_paused_until(person),
                           status_labels=STATUS_LABELS)


# Actions that are a single button on the person page: (service, message on success).
_BUTTON_ACTIONS = {
    "approve": (account_status.approve_account,
                "{name}’s account is approved. We have e-mailed them to say they can sign in."),
    "deactivate": (account_status.deactivate_account,
                   "{name}’s account is deactivated. They can no longer sign in."),
    "reactivate": (account_status.reactivate_account, "{name}’s account is active again."),
    "resend-verification": (registration.resend_verification_link,
                            "A new confirmation link has been sent to {email}."),
    "unlock": (sign_in.unlock_account, "{name}’s account is unlocked. They can sign in again."),
}


@bp.route("/admin/people/<int:person_id>/<any(approve, deactivate, reactivate, "
          "'resend-verification', unlock):action>", methods=["POST"])
@requires(ADMIN)
def admin_person_action(person_id: int, action: str):
    person = _person_or_404(person_id)
    if ConfirmForm().validate_on_submit():
        service, message = _BUTTON_ACTIONS[action]
        with refusals() as attempt:
            service(person, current_user)
        if not attempt.refused:
            flash(message.format(name=person.name, email=person.email), "success")
    return redirect(url_for("accounts.admin_person", person_id=person.id))


@bp.route("/admin/people/<int:person_id>/refuse", methods=["GET", "POST"])
@requires(ADMIN)
def admin_person_refuse(person_id: int):
    person = _person_or_404(person_id)
    form = AccountRefuseForm()
    if form.validate_on_submit():
        with refusals(form, field="reason") as attempt:
            account_status.refuse_account(person, current_user, form.reason.data or "")
        if not attempt.refused:
            flash(f"{person.name}’s account is refused. We have e-mailed them to say so.",
                  "success")
            return redirect(url_for("accounts.admin_person", person_id=person.id))
    record_access("person", subject_user_id=person.id)
    return render_template("accounts/admin/person_refuse.html", form=form, person=person)


@bp.route("/admin/people/<int:person_id>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def admin_person_edit(person_id: int):
    person = _person_or_404(person_id)
    form = PersonEditForm(obj=person)
    form.agency_id.choices = _active_agency_choices("Choose an agency")
    if person.agency and not person.agency.active:
        form.agency_id.choices.append((person.agency.id, f"{person.agency.name} (deactivated)"))
    if form.validate_on_submit():
        with refusals(form, field="name") as attempt:
            change = details.change_person_details(
                person, current_user, name=form.name.data, email=form.email.data,
                job_title=form.job_title.data or "",
                agency=db.session.get(Agency, form.agency_id.data or 0),
                line_manager_name=form.line_manager_name.data or "",
                line_manager_email=form.line_manager_email.data or "",
                reason=form.reason.data or "",
            )
        if not attempt.refused:
            if change.fields:
                message = f"{person.name}’s details have been saved."
                if "email" in change.fields:
                    message += f" We have sent a link to {person.email} to confirm it."
                if change.reasked:
                    message += " " + reasked_message(len(change.reasked), "their")
                flash(message, "success")
            return redirect(url_for("accounts.admin_person", person_id=person.id))
    record_access("person", subject_user_id=person.id)
    return render_template("accounts/admin/person_edit.html", form=form, person=person)


@bp.route("/admin/people/<int:person_id>/roles/new", methods=["GET", "POST"])
@requires(ADMIN)
def admin_person_role_grant(person_id: int):
    person = _person_or_404(person_id)
    form = RoleGrantForm()
    form.role.choices = [("", "Choose a role")] + [(r, ROLE_LABELS[r]) for r in GRANTABLE_ROLES]
    form.agency_id.choices = _active_agency_choices("Not a coordinator")
    if request.method == "GET" and person.agency_id:
        form.agency_id.data = person.agency_id
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
        with refusals(form, field="role") as attempt:
            roles.grant_role(person, form.role.data, current_user, agency)
        if not attempt.refused:
            flash(f"{person.name} now has the role {ROLE_LABELS[form.role.data]}"
                  + (f" for {agency.name}" if agency and form.role.data == "coordinator" else "")
                  + ".", "success")
            return redirect(url_for("accounts.admin_person", person_id=person.id))
    record_access("person", subject_user_id=person.id)
    return render_template("accounts/admin/person_role.html", form=form, person=person)


@bp.route("/admin/people/<int:person_id>/roles/<int:grant_id>/remove", methods=["POST"])
@requires(ADMIN)
def admin_person_role_remove(person_id: int, grant_id: int):
    grant = db.session.get(RoleGrant, grant_id)
    if grant is None or grant.user_id != person_id:
        abort(404)
    person = grant.user
    if ConfirmForm().validate_on_submit():
        label = ROLE_LABELS[grant.role]
        with refusals() as attempt:
            roles.revoke_role(grant, current_user)
        if not attempt.refused:
            flash(f"{person.name} no longer has the role {label}.", "success")
    return redirect(url_for("accounts.admin_person", person_id=person_id))

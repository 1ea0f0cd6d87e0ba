"""Needs proposals: coordinators propose their agency's training needs figures for an analysis; the
L&D team accepts them as proposed or edited."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.accounts.access import ADMIN, COORDINATOR, requires
from app.accounts.models import Agency
from app.extensions import db
from app.inputs import query_int, whole_number
from app.refusals import refusals
from app.reports import bp, queries
from app.reports.forms import NeedsDecisionForm, NeedsProposalForm
from app.reports.models import PENDING, NeedsProposal
from app.reports.needs import current_tna
from app.reports.proposals import accept_proposal, current_figures, propose_needs, trainings_for


def _needed_from(form_data, keys: list[str]) -> dict[str, int | None]:
    """The number needing each training, from the boxes named needed-<key> (None: blank or not a number)."""
    return {key: whole_number(form_data.get(f"needed-{key}")) for key in keys}


def _box_errors(error) -> dict[str, list[str]]:
    """A refusal's messages for the per-training boxes, by box name."""
    found: dict[str, list[str]] = {}
    for field, message in (error.on_form() if error else []):
        if field and field.startswith("needed-"):
            found.setdefault(field, []).append(message)
    return found


@bp.route("/agency/needs", methods=["GET", "POST"])
@requires(COORDINATOR)
def agency_needs():
    agencies = sorted((a for a in (db.session.get(Agency, i) for i in current_user.coordinated_agency_ids) if a),
                      key=lambda a: a.name)
    agency = next((a for a in agencies if a.id == query_int("agency_id")), agencies[0] if agencies else None)
    analyses = queries.analyses_latest_first()
    tna_id = query_int("tna")
    tna = next((t for t in analyses if t.id == tna_id), None) if tna_id else current_tna()
    if agency is None or (tna_id and tna is None):
        abort(404)
    form = NeedsProposalForm()
    trainings = trainings_for(tna, agency) if tna else []
    staff, needed_now = current_figures(tna, agency) if tna else (None, {})
    values = {t.key: request.form.get(f"needed-{t.key}", "") if request.method == "POST"
              else needed_now.get(t.key, "") for t in trainings}
    if request.method == "GET" and staff is not None:
        form.staff_in_scope.data = str(staff)
    box_errors: dict[str, list[str]] = {}
    if tna is not None and form.validate_on_submit():
        with refusals(form, field="staff_in_scope") as attempt:
            propose_needs(tna, agency, form.staff_in_scope.number,
                          _needed_from(request.form, [t.key for t in trainings]), form.note.data or "", current_user)
        if not attempt.refused:
            flash("Proposal sent. The L&D team will accept it or change it.", "success")
            return redirect(url_for("reports.agency_needs", agency_id=agency.id, tna=tna.id))
        box_errors = _box_errors(attempt.error)
    return render_template("reports/agency_needs.html", form=form, agencies=agencies, agency=agency, tna=tna,
                           analyses=analyses, trainings=trainings, values=values, box_errors=box_errors,
                           proposals=queries.needs_proposals(frozenset({agency.id}), tna) if tna else [])


@bp.route("/reports/needs/proposals")
@requires(ADMIN)
def needs_proposals():
    return render_template("reports/needs_proposals.html", proposals=queries.needs_proposals())


@bp.route("/reports/needs/proposals/<int:proposal_id>", methods=["GET", "POST"])
@requires(ADMIN)
def needs_proposal(proposal_id: int):
    proposal = db.session.get(NeedsProposal, proposal_id) or abort(404)
    form = NeedsDecisionForm()
    keys = [line.training_key for line in proposal.lines]
    if request.method == "GET":
        form.staff_in_scope.data = str(proposal.staff_in_scope)
    values = {line.training_key: request.form.get(f"needed-{line.training_key}", "") if request.method == "POST"
              else line.needed for line in proposal.lines}
    box_errors: dict[str, list[str]] = {}
    if proposal.status == PENDING and form.validate_on_submit():
        with refusals(form, field="staff_in_scope") as attempt:
            accept_proposal(proposal, form.staff_in_scope.number, _needed_from(request.form, keys), current_user)
        if not attempt.refused:
            flash(f"Accepted: {proposal.agency.name}’s figures are now in {proposal.tna.name}.", "success")
            return redirect(url_for("reports.needs_proposals"))
        box_errors = _box_errors(attempt.error)
    staff_now, needed_now = current_figures(proposal.tna, proposal.agency)
    return render_template("reports/needs_proposal.html", proposal=proposal, form=form, values=values,
                           box_errors=box_errors, staff_now=staff_now, needed_now=needed_now,
                           history=queries.needs_proposals(frozenset({proposal.agency_id}), proposal.tna))

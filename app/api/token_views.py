"""Where an agency's coordinator (or an administrator, for any agency) creates and revokes the
agency's API tokens. A token is shown once, on the page that created it; only its hash is kept."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.accounts.access import ADMIN, COORDINATOR, requires
from app.accounts.models import Agency
from app.api import bp, queries
from app.api.forms import ApiTokenCreateForm, ApiTokenRevokeForm
from app.api.models import ApiToken
from app.api.tokens import SCOPES, create_token, may_manage, revoke_token
from app.clock import utcnow
from app.filters import Viewer
from app.inputs import query_int, row_or_404
from app.refusals import refusals


def _agency() -> tuple[Agency | None, list[Agency]]:
    """The agency asked for (or the person's only one) and those they may choose from; 404 for
    an agency they may not manage."""
    choices = Viewer.of(current_user, sees_all=(ADMIN,)).agencies()
    agency_id = query_int("agency_id")
    if agency_id is None:
        return (choices[0] if len(choices) == 1 else None), choices
    agency = row_or_404(Agency, agency_id)
    if not may_manage(current_user, agency):
        abort(404)
    return agency, choices


@bp.route("/agency/api-tokens")
@requires(COORDINATOR, ADMIN)
def tokens():
    agency, choices = _agency()
    return render_template("api/tokens.html", agency=agency, choices=choices, now=utcnow(), scopes=SCOPES,
                           tokens=queries.agency_tokens(agency) if agency else [])


@bp.route("/agency/api-tokens/new", methods=["GET", "POST"])
@requires(COORDINATOR, ADMIN)
def new_token():
    agency, _choices = _agency()
    if agency is None:
        return redirect(url_for("api.tokens"))
    form = ApiTokenCreateForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            created = create_token(agency, name=form.name.data, scopes=form.scopes.data,
                                   days=form.days.data, actor=current_user)
        if not attempt.refused:
            return render_template("api/token_created.html", agency=agency, token=created.token,
                                   secret=created.secret, scopes=SCOPES)
    return render_template("api/token_form.html", agency=agency, form=form)


def _token_or_404(token_id: int) -> ApiToken:
    token = row_or_404(ApiToken, token_id)
    if not may_manage(current_user, token.agency):
        abort(404)
    return token


@bp.route("/agency/api-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@requires(COORDINATOR, ADMIN)
def revoke(token_id: int):
    token = _token_or_404(token_id)
    form = ApiTokenRevokeForm()
    if form.validate_on_submit():
        with refusals(form) as attempt:
            revoke_token(token, actor=current_user)
        if not attempt.refused:
            flash(f"The token {token.name} was revoked: calls with it now get 401.", "success")
            return redirect(url_for("api.tokens", agency_id=token.agency_id))
    return render_template("api/token_revoke.html", token=token, form=form, now=utcnow())

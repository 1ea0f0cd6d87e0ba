"""Registration, e-mail verification, sign-in and out, password reset, the account page."""
import logging
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from app.accounts import bp
from app.accounts.access import public, signed_in
from app.accounts.forms import (
    AccountDetailsForm,
    AccountRegisterForm,
    ConfirmForm,
    EmailRequestForm,
    PasswordChangeForm,
    PasswordResetForm,
    SignInForm,
)
from app.accounts.external_sign_in import sign_in_with_provider
from app.accounts.identity_providers import (
    TRY_AGAIN,
    ExternalSignInFailed,
    authorization_request,
    configured_providers,
    finish_authorization,
    parse_providers,
    provider_named,
)
from app.accounts.limits import limited
from app.accounts.models import PENDING_APPROVAL, Agency, find_user_by_email
from app.accounts.details import change_own_details
from app.accounts.queries import (
    active_agencies,
    detail_changes,
    external_identities,
    user_for_session,
)
from app.accounts.registration import register_person, send_verification, verify_email
from app.accounts.sign_in import (
    SignInRefused,
    UseProvider,
    authenticate,
    change_password,
    end_sessions,
    person_for_reset,
    request_password_reset,
    reset_password,
)
from app.accounts.tokens import LinkError
from app.extensions import db, login_manager
from app.locking import write_intent
from app.refusals import refusals


log = logging.getLogger(__name__)


class LinkedAccount(NamedTuple):
    """An organisation's account that signs the person in, as the account page lists it."""

    name: str
    linked_at: datetime


# Session keys: the sign-in started with a provider (state, nonce, PKCE verifier), and that the
# person signed in with one still has to give their details (a line manager) before anything else.
PENDING_KEY = "external_sign_in"
DETAILS_KEY = "details_needed"


@bp.record_once
def _read_providers(state) -> None:
    """Refuse to start with OIDC_PROVIDERS that cannot be read, saying what is wrong (rather than
    fail on the sign-in page)."""
    parse_providers(state.app.config.get("OIDC_PROVIDERS") or "[]")


@login_manager.user_loader
def load_user(session_token: str):
    return user_for_session(session_token)


def _agency_choices() -> list[tuple[int, str]]:
    return [(0, "Choose your agency")] + [(a.id, a.name) for a in active_agencies()]


def _safe_next(target: str | None) -> str | None:
    """Only follow a `next` that stays on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
@limited("RATELIMIT_REGISTER")
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = AccountRegisterForm()
    form.agency_id.choices = _agency_choices()
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data) if form.agency_id.data else None
        with refusals(form, field="email") as attempt:
            registration = register_person(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                job_title=form.job_title.data,
                agency=agency,
                line_manager_name=form.line_manager_name.data,
                line_manager_email=form.line_manager_email.data,
            )
        if not attempt.refused:
            return render_template("accounts/registered.html", email=registration.email,
                                   held=registration.held)
    return render_template("accounts/register.html", form=form)


@bp.route("/verify/<token>", endpoint="verify_email")
@public
def verify_email_link(token: str):
    with refusals(show=False) as attempt:
        person, confirmed_now = verify_email(token)
    if attempt.refused:
        return render_template("accounts/link_problem.html", message=attempt.message,
                               expired=attempt.error.expired, resend=True), 400
    if not confirmed_now:
        flash("Your e-mail address was already confirmed. You do not need this link again.",
              "info")
    elif person.status == PENDING_APPROVAL:
        flash("Thank you: your e-mail address is confirmed. The L&D team will approve your "
              "account and e-mail you.", "info")
    else:
        flash("Your e-mail address is confirmed. You can now sign in.", "success")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/verify/resend", methods=["GET", "POST"])
@limited("RATELIMIT_EMAIL_LINKS")
@public
def resend_verification():
    form = EmailRequestForm()
    if form.validate_on_submit():
        person = find_user_by_email(form.email.data)
        if person is not None and not person.is_verified:
            send_verification(person)
            db.session.commit()
        flash("If that address has an account waiting to be confirmed, we have sent a new link.",
              "success")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/resend.html", form=form)


@bp.route("/sign-in", methods=["GET", "POST"])
@limited("RATELIMIT_SIGN_IN")
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignInForm()
    use_provider = None
    if form.validate_on_submit():
        try:
            person = authenticate(form.email.data, form.password.data,
                                  client=request.remote_addr or "unknown")
        except SignInRefused as exc:
            db.session.commit()  # keep the failure
            form.email.errors.append(exc.message)
            if isinstance(exc, UseProvider):
                use_provider = exc.provider.name
        else:
            db.session.commit()
            login_user(person, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("accounts/sign_in.html", form=form,
                           providers=list(configured_providers().values()),
                           use_provider=use_provider, next_url=_safe_next(request.args.get("next")))


def _callback_url(name: str) -> str:
    # Built on BASE_URL, not the request's host: it must be exactly the address registered with
    # the provider, whatever proxy the request came through.
    return current_app.config["BASE_URL"] + url_for("accounts.external_sign_in_callback", name=name)


@bp.route("/sign-in/with/<name>")
@limited("RATELIMIT_SIGN_IN")
@public
def external_sign_in_start(name: str):
    provider = provider_named(name)
    if provider is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    try:
        url, pending = authorization_request(provider, _callback_url(provider.name))
    except ExternalSignInFailed as exc:
        log.warning("External sign-in failed: provider=%s reason=%s", provider.name, exc.reason)
        return render_template("accounts/external_sign_in_problem.html", message=exc.message), 502
    pending["next"] = _safe_next(request.args.get("next"))
    session[PENDING_KEY] = pending
    return redirect(url)


@bp.route("/sign-in/with/<name>/callback")
@limited("RATELIMIT_SIGN_IN")
@public
def external_sign_in_callback(name: str):
    provider = provider_named(name)
    if provider is None:
        abort(404)
    # Taken out whatever happens next: each sign-in's state and nonce work once.
    pending = session.pop(PENDING_KEY, None)
    answer = {key: request.args.get(key, "") for key in ("state", "code", "error", "iss")}
    try:
        claims = finish_authorization(provider, pending, answer, _callback_url(provider.name))
        # A GET that writes: on SQLite take the write lock up front (app.locking), so two first
        # sign-ins at once wait their turn instead of failing.
        db.session.rollback()  # nothing written yet; a read begun by this request ends here
        with write_intent():
            outcome = sign_in_with_provider(provider, claims)
            db.session.commit()
    except ExternalSignInFailed as exc:
        db.session.rollback()
        log.warning("External sign-in failed: provider=%s reason=%s", provider.name, exc.reason)
        return render_template("accounts/external_sign_in_problem.html", message=exc.message), 400
    except IntegrityError:
        # The same person's sign-in in another tab linked or made the account a moment ago.
        db.session.rollback()
        log.warning("External sign-in failed: provider=%s reason=concurrent_sign_in", provider.name)
        return render_template("accounts/external_sign_in_problem.html", message=TRY_AGAIN), 409
    person = outcome.person
    if outcome.held:
        log.info("External sign-in made an account held for approval: provider=%s person=%s",
                 provider.name, person.id)
        return render_template("accounts/external_held.html", provider=provider,
                               agency_name=person.agency.name)
    if current_user.is_authenticated and current_user.id != person.id:
        logout_user()
    login_user(person)
    log.info("External sign-in: provider=%s person=%s created=%s", provider.name, person.id,
             outcome.created)
    after = pending.get("next") or url_for("main.index")
    if not person.line_manager_email or not person.job_title:
        session[DETAILS_KEY] = True
        flash("Before you book, tell us your job title and your line manager: they are asked to "
              "agree to some courses.", "info")
        return redirect(url_for("accounts.account_details", next=after))
    return redirect(after)


# Pages a person who signed in with a provider may see before giving their details.
_BEFORE_DETAILS = {"accounts.account_details", "accounts.sign_out", "static"}


@bp.before_app_request
def _details_first():
    """Send someone who has not yet given their line manager back to that step."""
    if not session.get(DETAILS_KEY) or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        session.pop(DETAILS_KEY, None)
        return None
    if request.endpoint in _BEFORE_DETAILS or request.endpoint.startswith("operations."):
        return None
    return redirect(url_for("accounts.account_details", next=_safe_next(request.full_path)))


@bp.route("/sign-out", methods=["GET", "POST"])
@public
def sign_out():
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        if current_user.is_authenticated:
            end_sessions(current_user)  # a copied cookie must not outlive signing out
            db.session.commit()
        logout_user()
        flash("You have signed out.", "success")
        return redirect(url_for("main.index"))
    if not current_user.is_authenticated:
        return redirect(url_for("main.index"))
    return render_template("accounts/sign_out.html", form=form)


@bp.route("/password/forgotten", methods=["GET", "POST"])
@limited("RATELIMIT_EMAIL_LINKS")
@public
def forgotten_password():
    form = EmailRequestForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/reset_sent.html")
    return render_template("accounts/forgotten.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"], endpoint="reset_password")
@public
def reset_password_link(token: str):
    try:
        person_for_reset(token)
    except LinkError as exc:
        return render_template("accounts/link_problem.html", message=exc.message,
                               expired=exc.expired, resend=False), 400
    form = PasswordResetForm()
    if form.validate_on_submit():
        with refusals(form, field="password") as attempt:
            reset_password(token, form.password.data)
        if not attempt.refused:
            flash("Your password has been changed. You can now sign in.", "success")
            return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset.html", form=form)


@bp.route("/account")
@signed_in
def account():
    linked = []
    for link in external_identities(current_user):
        provider = provider_named(link.provider)  # None once taken out of the settings
        linked.append(LinkedAccount(provider.display_name if provider else link.provider,
                                    link.linked_at))
    return render_template("accounts/account.html", person=current_user,
                           changes=detail_changes(current_user), linked=linked)


def reasked_message(count: int, whose: str) -> str:
    """Say how many held places were asked again of the new line manager."""
    places = "1 place" if count == 1 else f"{count} places"
    return (f"We have asked {whose} new line manager to agree to {places} waiting for an answer; "
            "the links sent to the old manager no longer work.")


@bp.route("/account/details", methods=["GET", "POST"])
@signed_in
def account_details():
    person = current_user._get_current_object()
    form = AccountDetailsForm(obj=person)
    back = _safe_next(request.args.get("next")) or url_for("accounts.account")
    if form.validate_on_submit():
        with refusals(form, field="name") as attempt:
            change = change_own_details(
                person, name=form.name.data, job_title=form.job_title.data,
                line_manager_name=form.line_manager_name.data or "",
                line_manager_email=form.line_manager_email.data or "",
                manager_required=bool(session.get(DETAILS_KEY)),
            )
        if not attempt.refused:
            session.pop(DETAILS_KEY, None)
            if change.fields:
                flash("Your details have been saved."
                      + (" " + reasked_message(len(change.reasked), "your") if change.reasked
                         else ""), "success")
            return redirect(back)
    return render_template("accounts/account_details.html", form=form, back=back)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password_page():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
        with refusals(form, field="password") as attempt:
            change_password(current_user, form.current_password.data, form.password.data)
        if not attempt.refused:
            # Every other session has ended; this one carries on with the new token.
            login_user(current_user._get_current_object(), remember=remembered)
            flash("Your password has been changed. Anywhere else you were signed in, you have "
                  "been signed out.", "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/change_password.html", form=form)

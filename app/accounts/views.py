"""Registration, e-mail verification, sign-in and out, password reset, the account page."""
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

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
from app.accounts.limits import limited
from app.accounts.models import PENDING_APPROVAL, Agency, find_user_by_email
from app.accounts.details import change_own_details
from app.accounts.queries import active_agencies, detail_changes, user_for_session
from app.accounts.registration import register_person, send_verification, verify_email
from app.accounts.sign_in import (
    SignInRefused,
    authenticate,
    change_password,
    end_sessions,
    person_for_reset,
    request_password_reset,
    reset_password,
)
from app.accounts.tokens import LinkError
from app.extensions import db, login_manager
from app.refusals import refusals


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
    if form.validate_on_submit():
        try:
            person = authenticate(form.email.data, form.password.data,
                                  client=request.remote_addr or "unknown")
        except SignInRefused as exc:
            db.session.commit()  # keep the failure
            form.email.errors.append(exc.message)
        else:
            db.session.commit()
            login_user(person, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("accounts/sign_in.html", form=form)


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
    return render_template("accounts/account.html", person=current_user,
                           changes=detail_changes(current_user))


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
            )
        if not attempt.refused:
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

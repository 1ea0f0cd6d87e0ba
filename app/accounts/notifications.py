"""Account messages, queued in the outbox with the change that caused them.

Each key names the event or link that caused the message, so a message is queued once however
many times the same request is repeated.
"""
from __future__ import annotations

from flask import current_app

from app.accounts.models import User
from app.clock import utcnow
from app.email import queue_email
from app.urls import external_url


def _notify(person: User, key: str, subject: str, template: str, **context) -> None:
    queue_email(key=key, to=person.email, subject=subject,
                template=f"accounts/emails/{template}", person=person, **context)


def notify_registration_attempt(owner: User) -> None:
    """Tell an account's owner that someone tried to register with their address."""
    # One message an hour at most, so registering again and again cannot flood their mailbox.
    _notify(owner, f"registration-attempt:{owner.id}:{utcnow():%Y-%m-%d-%H}",
            "Someone tried to register with your e-mail address", "registration_attempt",
            sign_in_link=external_url("accounts.sign_in"),
            reset_link=external_url("accounts.forgotten_password"))


def notify_verification_link(person: User, token: str) -> None:
    """Send the link that confirms a person's e-mail address."""
    _notify(person, f"verify:{person.id}:{token[-16:]}", "Confirm your e-mail address", "verify",
            link=external_url("accounts.verify_email", token=token),
            hours=current_app.config["VERIFY_LINK_HOURS"])


def notify_reset_link(person: User, token: str) -> None:
    """Send the link that sets a new password."""
    _notify(person, f"reset:{person.id}:{token[-16:]}", "Reset your password", "reset",
            link=external_url("accounts.reset_password", token=token),
            hours=current_app.config["RESET_LINK_HOURS"])


def notify_account_approved(person: User, event_id: int) -> None:
    """Tell a person their held account is approved."""
    _notify(person, f"account-approved:{event_id}", "Your account is approved", "approved",
            sign_in_link=external_url("accounts.sign_in"),
            resend_link=external_url("accounts.resend_verification"))


def notify_account_refused(person: User, event_id: int, reason: str) -> None:
    """Tell a person their held account is refused, and why."""
    _notify(person, f"account-refused:{event_id}", "Your account was not approved", "refused",
            reason=reason, contact=current_app.config["L_AND_D_EMAIL"])

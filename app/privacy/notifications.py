"""Privacy messages: the warning before an unused account is closed, a request for erasure."""
from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.accounts.models import User
from app.clock import utcnow
from app.email import queue_email
from app.urls import external_url


def notify_dormant_warning(person: User, closes_on: datetime) -> None:
    """Tell a person their unused account will be closed and anonymised unless they sign in."""
    queue_email(key=f"dormant-warning:{person.id}:{utcnow():%Y-%m-%d}", to=person.email,
                subject="Your training account will be closed", template="privacy/emails/dormant_warning",
                person=person, closes_on=closes_on, sign_in_link=external_url("accounts.sign_in"),
                contact=current_app.config["L_AND_D_EMAIL"])


def notify_erasure_request(person: User) -> None:
    """Tell the L&D team that a person asks for their details to be erased."""
    queue_email(key=f"erasure-request:{person.id}:{utcnow():%Y-%m-%d}",
                to=current_app.config["L_AND_D_EMAIL"], subject="A request to erase a person’s details",
                template="privacy/emails/erasure_request", person=person,
                link=external_url("privacy.admin_erase", person_id=person.id))

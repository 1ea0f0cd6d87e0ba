"""The certificate gate: a course's certificate can wait for the person's first evaluation.

Attendance decides when a certificate is released; evaluation adds this condition to it through
`add_certificate_gate` when this module is imported (app/__init__.py imports it with the views).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from app.attendance.certificates import Refusal, add_certificate_gate
from app.bookings.models import Booking
from app.clock import utcnow
from app.evaluation.course_settings import course_setting
from app.evaluation.links import invitation_link
from app.evaluation.models import STAGE_ONE, Invitation
from app.extensions import db
from app.templating import format_date


def first_evaluation_submitted(booking: Booking) -> bool:
    """Say whether the person has sent the first evaluation of this booking's session."""
    return db.session.scalar(
        select(func.count(Invitation.id)).where(
            Invitation.booking_id == booking.id, Invitation.stage == STAGE_ONE,
            Invitation.submitted_at.is_not(None))
    ) > 0


def certificate_gate(booking: Booking) -> Refusal | None:
    """Return why a certificate waits for the first evaluation, with its link; None when it does not."""
    if not course_setting(booking.session.course).certificate_needs_evaluation:
        return None
    if first_evaluation_submitted(booking):
        return None
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.booking_id == booking.id, Invitation.stage == STAGE_ONE)
    )
    if invitation is None:
        return Refusal("Answer the evaluation to get your certificate. We will e-mail you the link when "
                       "the session has ended and the register is complete.")
    if invitation.is_expired(utcnow()):
        return Refusal("Answer the evaluation to get your certificate. Your link to it has closed: contact "
                       f"the L&D team at {current_app.config['L_AND_D_EMAIL']} to have it sent again.")
    return Refusal(f"to get your certificate (open until {format_date(invitation.expires_at)}).",
                   link_text="Answer the evaluation", href=invitation_link(invitation))


# Certificates wait for the first evaluation (CERTIFICATE_REQUIRES_EVALUATION, and per course).
add_certificate_gate(certificate_gate)

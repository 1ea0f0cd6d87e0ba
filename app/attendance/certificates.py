"""Certificates of attendance: when one is released, and its verification code.

Other domains add conditions with `add_certificate_gate(func)`: `func(booking)` returns a reason
the certificate is not yet available (shown to the person: a Refusal, which may carry a link to
what they need to do, or plain text) or None. The evaluation domain adds "answer the first
evaluation", linking to it. The gates apply while CERTIFICATE_REQUIRES_EVALUATION is on
(the default); with it off a certificate is released as soon as attendance is marked.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import NamedTuple

from flask import current_app
from sqlalchemy import select

from app.attendance.completions import counts_as_complete
from app.attendance.models import Certificate
from app.bookings.models import CONFIRMED, OUTCOME_LABELS, PARTLY_ATTENDED, Booking
from app.clock import utcnow
from app.extensions import db


class Refusal(NamedTuple):
    """Why a certificate is not available yet, shown as "<link> text" when it has a link."""

    text: str
    link_text: str = ""
    href: str = ""


CertificateGate = Callable[[Booking], "Refusal | str | None"]
certificate_gates: list[CertificateGate] = []

# No 0/O or 1/I/L, so a code read from paper is typed right.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4


def add_certificate_gate(func: CertificateGate) -> CertificateGate:
    """Add a condition a certificate waits for (usable as a decorator); adding one twice is harmless."""
    if func not in certificate_gates:
        certificate_gates.append(func)
    return func


def certificate_refusals(booking: Booking) -> list[Refusal]:
    """Return why the booking's certificate is not available yet (empty: it is)."""
    if booking.status != CONFIRMED or booking.outcome is None:
        return [Refusal("Your attendance has not been marked yet. The trainer marks the register on the day.")]
    if not counts_as_complete(booking):
        if booking.outcome == PARTLY_ATTENDED:
            return [Refusal("You attended part of this course. The L&D team decides whether it counts as "
                            "complete; a certificate is available once it does.")]
        return [Refusal(f"The register shows: {OUTCOME_LABELS[booking.outcome].lower()}. A certificate is "
                        "for attendance. Contact the L&D team if this is wrong.")]
    if not current_app.config["CERTIFICATE_REQUIRES_EVALUATION"]:
        return []
    reasons = []
    for gate in certificate_gates:
        reason = gate(booking)
        if reason:
            reasons.append(reason if isinstance(reason, Refusal) else Refusal(reason))
    return reasons


def _new_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def normalise_code(text: str) -> str:
    """Return a typed code in its stored form (capitals, groups joined by hyphens)."""
    raw = re.sub(r"[^A-Za-z0-9]", "", text or "").upper()
    if len(raw) != CODE_GROUPS * CODE_GROUP_LENGTH:
        return ""
    return "-".join(raw[i:i + CODE_GROUP_LENGTH] for i in range(0, len(raw), CODE_GROUP_LENGTH))


def issue_certificate(booking: Booking) -> Certificate:
    """Return the booking's certificate, making its verification code the first time.

    The register calls this when attendance completes the course; a certificate withdrawn by a
    correction keeps its code, which no longer verifies.
    """
    certificate = db.session.scalar(select(Certificate).where(Certificate.booking_id == booking.id))
    if certificate is not None:
        return certificate
    while True:
        code = _new_code()
        if not db.session.scalar(select(Certificate.id).where(Certificate.code == code)):
            break
    certificate = Certificate(booking_id=booking.id, code=code, issued_at=utcnow())
    db.session.add(certificate)
    db.session.flush()
    return certificate


def verify_certificate(code: str) -> Certificate | None:
    """Return the certificate a code belongs to while its attendance still stands, else None."""
    normalised = normalise_code(code)
    if not normalised:
        return None
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == normalised))
    if certificate is None or not counts_as_complete(certificate.booking):
        return None
    return certificate
